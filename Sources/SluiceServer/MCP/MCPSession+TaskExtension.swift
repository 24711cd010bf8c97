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
/// With a durable store, the store answers (`tasks/get` on any replica sharing it, or after a
/// restart, sees the same task: a run waiting for its caller's answer is `waiting` there);
/// without one, this process's registry does.
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

    /// Starts the run and answers with its `CreateTaskResult` once the run is recorded — in
    /// the store, with a durable executor, before it has a place (so at once even while
    /// `--max-runs` runs execute; it starts when one frees).
    func createTask(plan: ServedPlan, inputs: JSONValue, meta: ModernMeta) async throws -> JSONValue {
        let record = try await startRecordedRun(plan: plan, inputs: inputs, services: modernServices(meta))
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
        let durable = server.runs.executor.durable
        let local = server.runs.run(id: taskID, user: user)
        // A finished task is kept for its TTL, then it is gone (here as in the store).
        if durable == nil, let finished = local?.finishedAt, Date().timeIntervalSince(finished) * 1000 > Double(server.configuration.taskTTLMilliseconds) {
            throw Self.unknownTask
        }
        switch method {
        case "tasks/get":
            if durable == nil, let local { return .object(taskObject(local)) }
            return .object(try await storedTask(taskID))
        case "tasks/update":
            guard let answers = params["inputResponses"]?.objectValue else {
                throw JSONRPCError.invalidParams("Invalid params: 'inputResponses' must be an object")
            }
            // Another user's task, or none: not found. Keys not outstanding are ignored, as the
            // extension asks (so is an update for a task not waiting).
            guard durable != nil else {
                if local == nil { throw Self.unknownTask }
                return .object(JSONObject())
            }
            _ = try await storedTask(taskID)
            if let stored = try await waitingRun(taskID), let question = stored.pendingInput, let answer = answers[question.step]?.objectValue {
                _ = try await resumeWaiting(stored, answer: RetryAnswer(step: question.step, approve: Self.approves(answer)))
            }
            return .object(JSONObject())
        default:
            if let durable {
                guard let stored = try? await durable.store.run(id: taskID), stored.user == user else { throw Self.unknownTask }
                // The store first: a run parking at its question meanwhile sees the request
                // there (``DurableRunExecutor/park(_:at:cancelled:)``), and a parked one ends now.
                if !stored.status.isFinished || stored.status == .interrupted { _ = try? await durable.store.requestCancel(id: taskID) }
                _ = local?.cancel(reason: "the client cancelled the task")
            } else if let local, local.status == .running {
                _ = local.cancel(reason: "the client cancelled the task")
            } else {
                throw Self.unknownTask
            }
            return .object(JSONObject())
        }
    }

    static let unknownTask = JSONRPCError.invalidParams("Invalid params: no such task (unknown, another user's, or expired)")

    /// The task as this process sees its run (a server without a store: nothing waits, since
    /// input requests need one).
    func taskObject(_ record: RunRecord) -> JSONObject {
        var task = taskBase(id: record.id, created: record.createdAt, updated: record.finishedAt ?? Date())
        if let result = record.result {
            Self.finish(&task, with: result)
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
        case (.waiting, _):
            task["status"] = "working"
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
        guard let durable = server.runs.executor.durable else { throw Self.unknownTask }
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
        case .cancelled:
            task["status"] = "cancelled"
        case .waiting:
            // Stopped at a question its caller answers with tasks/update.
            if let question = stored.pendingInput {
                task["status"] = "input_required"
                task["statusMessage"] = .string(question.message)
                task["inputRequests"] = Self.inputRequests(question)
            }
        case .running, .interrupted:
            // On its way (an interrupted run is taken over, or resumed when a server starts).
            break
        }
        return task
    }
}
