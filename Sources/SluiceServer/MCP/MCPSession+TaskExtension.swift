import Foundation
import SluiceEngine
import SluiceJSON
import SluicePlan
import SluiceRunLog
import SluiceStore

/// The tasks extension (`io.modelcontextprotocol/tasks`) for 2026-07-28: a long plan called by
/// a client that declares the extension answers with a task handle at once; the client polls
/// `tasks/get`, answers questions with `tasks/update`, and may `tasks/cancel`.
///
/// A task is its run: the task id is the run id (random, 128 bits), owned by the run's user.
/// This process's registry answers first; the durable store answers for runs it no longer
/// holds (a restarted server), so a task outlives the process that started it.
extension MCPSession {
    static let tasksExtension = "io.modelcontextprotocol/tasks"
    static let taskMethods: Set<String> = ["tasks/get", "tasks/update", "tasks/cancel"]

    static func declaresTasks(_ meta: ModernMeta) -> Bool {
        meta.capabilities["extensions"]?[tasksExtension]?.objectValue != nil
    }

    /// Whether a call of `plan` becomes a task: the client declared the extension and the plan
    /// is long (more top-level steps than ``MCPServer/Configuration/inlineStepLimit``).
    func runsAsTask(_ plan: ServedPlan, meta: ModernMeta) -> Bool {
        guard Self.declaresTasks(meta), let steps = plan.plan?.steps.count else { return false }
        return steps > server.configuration.inlineStepLimit
    }

    /// Starts the run and answers with its `CreateTaskResult` once the run is recorded (in the
    /// store too, with a durable executor: its `run.started` is stored before anyone sees it).
    func createTask(plan: ServedPlan, inputs: JSONValue, meta: ModernMeta) async throws -> JSONValue {
        let record = try startModernRun(plan: plan, inputs: inputs, meta: meta)
        for await _ in record.events() { break }
        var task = taskObject(record)
        task["resultType"] = "task"
        return .object(task)
    }

    func respondTaskMethod(_ method: String, params: JSONObject, meta: ModernMeta) async throws -> JSONValue {
        guard Self.declaresTasks(meta) else {
            throw JSONRPCError(
                code: JSONRPCError.missingRequiredClientCapability, message: "Missing required client capability",
                data: ["requiredCapabilities": ["extensions": .object([Self.tasksExtension: .object(JSONObject())])]])
        }
        guard let taskID = params["taskId"]?.stringValue else { throw JSONRPCError.invalidParams("Invalid params: 'taskId' is required") }
        let local = server.runs.run(id: taskID, user: user)
        // A finished task is kept for its TTL, then it is gone (here as in the store).
        if let finished = local?.finishedAt, Date().timeIntervalSince(finished) * 1000 > Double(server.configuration.taskTTLMilliseconds) {
            throw Self.unknownTask
        }
        switch method {
        case "tasks/get":
            if let local { return .object(taskObject(local)) }
            return .object(try await storedTask(taskID))
        case "tasks/update":
            guard let answers = params["inputResponses"]?.objectValue else {
                throw JSONRPCError.invalidParams("Invalid params: 'inputResponses' must be an object")
            }
            if let local, local.status == .running {
                // Keys not outstanding are ignored, as the extension asks.
                if let question = server.waiting.question(runID: taskID), let answer = answers[question.step]?.objectValue {
                    _ = server.waiting.answer(runID: taskID, nonce: question.nonce, approve: Self.approves(answer))
                }
            } else if local == nil {
                try await resumeStoredTask(taskID, answers: answers)
            }
            return .object(JSONObject())
        default:
            if let local {
                local.cancel(reason: "the client cancelled the task")
            } else if let durable = server.runs.executor as? DurableRunExecutor {
                guard let stored = try? await durable.store.run(id: taskID), stored.user == user else { throw Self.unknownTask }
                if !stored.status.isFinished { _ = try? await durable.store.requestCancel(id: taskID) }
            } else {
                throw Self.unknownTask
            }
            return .object(JSONObject())
        }
    }

    static let unknownTask = JSONRPCError.invalidParams("Invalid params: no such task (unknown, another user's, or expired)")

    /// The task as this process sees its run.
    func taskObject(_ record: RunRecord) -> JSONObject {
        var task = taskBase(id: record.id, created: record.createdAt, updated: record.finishedAt ?? Date())
        if let result = record.result {
            Self.finish(&task, with: result)
        } else if let question = server.waiting.question(runID: record.id) {
            task["status"] = "input_required"
            task["statusMessage"] = .string(question.message)
            let ask = ElicitationChannel.formParams(step: question.step, message: question.message, details: question.details, mode: true)
            task["inputRequests"] = .object([question.step: ["method": "elicitation/create", "params": .object(ask)]])
        } else {
            task["status"] = "working"
        }
        return task
    }

    private func taskBase(id: String, created: Date, updated: Date) -> JSONObject {
        let format = ISO8601DateFormatter()
        return [
            "taskId": .string(id), "status": "working",
            "createdAt": .string(format.string(from: created)), "lastUpdatedAt": .string(format.string(from: updated)),
            "ttlMs": .integer(Int64(server.configuration.taskTTLMilliseconds)),
            "pollIntervalMs": .integer(Int64(server.configuration.taskPollIntervalMilliseconds)),
        ]
    }

    /// `completed` with the call's result (a tool error is still a completed call), `failed`
    /// with seed 001's JSON-RPC error, or `cancelled`.
    private static func finish(_ task: inout JSONObject, with result: RunResult) {
        switch (result.status, toolResult(result)) {
        case (.cancelled, _):
            task["status"] = "cancelled"
        case (_, .success(let value)):
            task["status"] = "completed"
            var object = value.objectValue ?? JSONObject()
            object["resultType"] = "complete"
            task["result"] = .object(object)
        case (_, .failure(let error)):
            task["status"] = "failed"
            task["statusMessage"] = .string(result.errorMessage ?? error.message)
            task["error"] = error.jsonValue
        }
    }

    /// The task of a run this process does not hold, from the store.
    private func storedTask(_ taskID: String) async throws -> JSONObject {
        guard let durable = server.runs.executor as? DurableRunExecutor else { throw Self.unknownTask }
        let stored: StoredRun?
        do {
            stored = try await durable.store.run(id: taskID)
        } catch {
            throw JSONRPCError(code: JSONRPCError.internalError, message: "Internal error: the task could not be read from the store: \(error.message)")
        }
        guard let stored, stored.user == user, stored.options["origin"] == "server" else { throw Self.unknownTask }
        let ttl = Double(server.configuration.taskTTLMilliseconds) / 1000
        if let finished = stored.finishedAt, Date().timeIntervalSince(finished) > ttl { throw Self.unknownTask }
        var task = taskBase(id: stored.id, created: stored.createdAt, updated: stored.updatedAt)
        switch stored.status {
        case .completed:
            Self.finish(&task, with: RunResult(status: .completed, result: stored.result))
        case .failed:
            let error = stored.error
            Self.finish(&task, with: RunResult(status: .failed, errorType: error?["type"]?.stringValue ?? "failed", errorMessage: error?["message"]?.stringValue))
        case .cancelled where stored.options[DurableRunExecutor.answersByRetryOption] != true:
            task["status"] = "cancelled"
        case .running, .interrupted, .cancelled:
            // Stopped at a question (its caller answers with tasks/update), or on its way.
            if let question = await waitingQuestion(stored, store: durable) {
                task["status"] = "input_required"
                task["inputRequests"] = .object([question.step: ["method": "elicitation/create", "params": .object(
                    ElicitationChannel.formParams(step: question.step, message: question.message, details: question.details, mode: true))]])
            } else if stored.status == .cancelled {
                task["status"] = "cancelled"
            }
        }
        return task
    }

    /// The question a stopped run's log ends on (its caller answers with `tasks/update`).
    private func waitingQuestion(_ run: StoredRun, store durable: DurableRunExecutor) async -> WaitingInputs.Question? {
        guard let asked = await durable.waitingQuestion(of: run), let step = asked.step else { return nil }
        return WaitingInputs.Question(
            runID: run.id, step: step, message: asked.data["message"]?.stringValue ?? "Continue with step '\(step)'?",
            details: asked.data["details"] ?? .null, nonce: "", seq: asked.seq)
    }

    /// `tasks/update` for a run stopped at its question in the store: continued with the answer.
    private func resumeStoredTask(_ taskID: String, answers: JSONObject) async throws {
        guard let durable = server.runs.executor as? DurableRunExecutor else { throw Self.unknownTask }
        guard let stored = try? await durable.store.run(id: taskID), stored.user == user else { throw Self.unknownTask }
        guard let question = await waitingQuestion(stored, store: durable), let answer = answers[question.step]?.objectValue,
            let plan = server.library.plan(named: stored.plan.name), server.waiting.beginResume(runID: taskID)
        else { return }
        defer { server.waiting.endResume(runID: taskID) }
        var services = RunServices(answersByRetry: true)
        services.confirmation = InputRequestChannel(
            waiting: server.waiting, runs: server.runs,
            progress: InputRequestChannel.Progress(floor: question.seq, answered: (question.step, Self.approves(answer))))
        do {
            _ = try server.runs.resume(id: taskID, plan: plan, inputs: stored.inputs, user: user, services: services)
        } catch {
            throw JSONRPCError.runFailed(type: "unavailable", message: error.description)
        }
    }
}
