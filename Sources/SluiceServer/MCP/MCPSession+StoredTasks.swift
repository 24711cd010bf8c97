import Foundation
import SluiceEngine
import SluiceJSON
import SluiceRunLog
import SluiceStore
import Synchronization

/// MCP 2025-11-25 tasks on a server with a durable store: a task IS its run, recorded before
/// the `CreateTaskResult` goes out, bound to its session and user by its options
/// (``SluiceStore/MCPTaskRecord``). `tasks/get`, `tasks/result`, `tasks/list` and
/// `tasks/cancel` answer from the store, so any replica taking the session up (PostgreSQL) or
/// the same server after a restart (SQLite) answers them the same way.
///
/// A task's `confirm` step does not wait in this process: the run is parked in the store as
/// `waiting` (as a 2026-07-28 run is, ``WaitRelease``), and its `elicitation/create` carries an
/// id naming the run and the question (``storedQuestionID(runID:seq:)``). Whichever process
/// receives the client's answer resumes the run with it (``MCPServer/resumeWaiting(_:answer:)``,
/// the one way a waiting run is continued), so nothing hangs when the asking process is gone:
/// `tasks/result`, on any replica, asks the question again.
extension MCPSession {
    var durableExecutor: DurableRunExecutor? { server.runs.executor.durable }

    static let taskNotFound = JSONRPCError.invalidParams("Failed to retrieve task: Task not found")

    /// Starts a task-augmented call's run, recorded in the store with its task binding, and
    /// answers with the task once the run's first event (`run.started`) is stored.
    func startStoredTask(plan: ServedPlan, inputs: JSONValue, ttl: Int, traceparent: String?) async throws -> JSONValue {
        let binding = MCPTaskRecord(session: sessionID, ttlMilliseconds: ttl, pollIntervalMilliseconds: server.configuration.taskPollIntervalMilliseconds)
        let taskIDBox = TaskIDBox()
        var services = runServices(outbound: unrelated, relatedTask: taskIDBox)
        // Questions go through the store unless the model is sampled on this very client
        // connection (then the run cannot move, and it asks from here as well).
        if services.model == nil, services.confirmation != nil {
            services.confirmation = nil
            services.answersByRetry = true
        }
        services.traceparent = traceparent
        services.recordedOptions[MCPTaskRecord.optionKey] = binding.jsonValue
        // Recorded before it has a place: the handle goes out at once, even at `--max-runs`.
        let record = try await startRecordedRun(plan: plan, inputs: inputs, services: services)
        taskIDBox.set(record.id)
        trackTask(record, ttl: ttl)
        guard let stored = try await storedRun(record.id) else { throw Self.taskNotFound }
        if services.answersByRetry { announceQuestion(of: record) }
        return ["task": .object(storedTaskObject(stored, binding: binding))]
    }

    /// Starts a task's run recorded in the store first (see ``RunManager/startRecorded(plan:inputs:user:services:)``).
    func startRecordedRun(plan: ServedPlan, inputs: JSONValue, services: RunServices) async throws -> RunRecord {
        do {
            return try await server.runs.startRecorded(plan: plan, inputs: inputs, user: user, services: services)
        } catch {
            switch error {
            case .refused(let refusal): throw JSONRPCError.runFailed(type: "unavailable", message: refusal.description)
            case .store(let message): throw JSONRPCError.runFailed(type: "store_unavailable", message: message)
            }
        }
    }

    /// Keeps a run this process executes for a task among the session's tasks (a session with
    /// a running task does not expire; closing it cancels the run).
    func trackTask(_ record: RunRecord, ttl: Int) {
        let now = Date()
        let task = MCPTask(record: record, createdAt: now, updatedAt: now, ttlMilliseconds: ttl, pollIntervalMilliseconds: server.configuration.taskPollIntervalMilliseconds)
        state.withLock { state in
            if state.tasks[task.taskID] == nil { state.taskOrder.append(task.taskID) }
            state.tasks[task.taskID] = task
            state.taskOrder.removeAll { id in
                guard let task = state.tasks[id], task.isTerminal, now.timeIntervalSince(task.createdAt) * 1000 > Double(task.ttlMilliseconds) else { return false }
                state.tasks.removeValue(forKey: id)
                return true
            }
        }
    }

    /// Once the run parks at a question here, asks it on the session's stream for messages tied
    /// to no request (`tasks/result` asks it too, on any replica).
    func announceQuestion(of record: RunRecord) {
        Task {
            let result = await record.waitForResult()
            guard result.status == .waiting, let stored = try? await server.waitingRun(record.id, user: user), let question = stored.pendingInput else { return }
            await askStored(question, runID: record.id, outbound: unrelated)
        }
    }

    /// Sends the `elicitation/create` of a stored question, once per session and process.
    func askStored(_ question: PendingInput, runID: String, outbound: any MCPOutbound, relatedTask: Bool = true) async {
        let id = Self.storedQuestionID(runID: runID, seq: question.seq)
        guard state.withLock({ $0.asked.insert(id).inserted }) else { return }
        var params = ElicitationChannel.formParams(step: question.step, message: question.message, details: question.details, mode: protocolVersion >= "2025-11-25")
        if relatedTask { params["_meta"] = [Self.relatedTaskKey: ["taskId": .string(runID)]] }
        await outbound.send(.request(id: .string(id), method: "elicitation/create", params: .object(params)))
    }

    /// The JSON-RPC id of the `elicitation/create` asking stored question `seq` of run `runID`:
    /// the answer names its question, whichever process receives it.
    static func storedQuestionID(runID: String, seq: Int) -> String { "sluice-ask:\(runID):\(seq)" }

    static func storedQuestion(ofID id: String) -> (runID: String, seq: Int)? {
        let parts = id.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "sluice-ask", !parts[1].isEmpty, let seq = Int(parts[2]) else { return nil }
        return (String(parts[1]), seq)
    }

    /// The client's answer to a stored question: resumes the run here when it is this
    /// session's task (or plain call) and still waits on that very question. Anything else (an unknown id,
    /// another session's or user's run, a question answered already) is ignored, as a response
    /// to no request is. An error response declines.
    func answerStoredQuestion(runID: String, seq: Int, outcome: Result<JSONValue, JSONRPCError>) async {
        guard durableExecutor != nil, let stored = try? await server.waitingRun(runID, user: user), let question = stored.pendingInput, question.seq == seq
        else { return }
        let task = MCPTaskRecord(options: stored.options)
        guard task?.session == sessionID || stored.options[Self.callSessionOption]?.stringValue == sessionID else { return }
        let approve = (try? outcome.get()).flatMap(\.objectValue).map(Self.approves) ?? false
        guard let record = try? await server.resumeWaiting(stored, answer: RetryAnswer(step: question.step, approve: approve)) else { return }
        // A plain call's follower asks the next question on the call's stream.
        guard let task else { return }
        trackTask(record, ttl: task.ttlMilliseconds)
        announceQuestion(of: record)
    }

    func storedRun(_ id: String) async throws -> StoredRun? {
        guard let durable = durableExecutor else { return nil }
        do {
            return try await durable.store.run(id: id)
        } catch {
            throw JSONRPCError(code: JSONRPCError.internalError, message: "Internal error: the task could not be read from the store: \(error.message)")
        }
    }

    /// This session's task named in `params`, from the store; not found when it is another
    /// session's or user's, no task, or ended longer ago than its TTL.
    func ownStoredTask(_ params: JSONObject) async throws -> (StoredRun, MCPTaskRecord) {
        guard let id = params["taskId"]?.stringValue else { throw JSONRPCError.invalidParams("Invalid params: 'taskId' is required") }
        guard let stored = try await storedRun(id), let binding = Self.binding(of: stored, user: user, session: sessionID) else { throw Self.taskNotFound }
        return (stored, binding)
    }

    /// The task binding of `stored` when it is a live task of `session` and `user`.
    static func binding(of stored: StoredRun, user: String, session: String, now: Date = Date()) -> MCPTaskRecord? {
        guard stored.user == user, let binding = MCPTaskRecord(options: stored.options), binding.session == session else { return nil }
        if let finished = stored.finishedAt, now.timeIntervalSince(finished) * 1000 > Double(binding.ttlMilliseconds) { return nil }
        return binding
    }

    /// The task as the store tells it. A cancel request is final: the task reads `cancelled`
    /// from then on, whatever its run does before it stops.
    func storedTaskObject(_ stored: StoredRun, binding: MCPTaskRecord) -> JSONObject {
        let (status, message) = storedTaskStatus(stored)
        var object: JSONObject = ["taskId": .string(stored.id), "status": .string(status)]
        if let message { object["statusMessage"] = .string(message) }
        object["createdAt"] = .string(EventTime.iso8601(stored.createdAt))
        object["lastUpdatedAt"] = .string(EventTime.iso8601(stored.finishedAt ?? stored.updatedAt))
        object["ttl"] = .integer(Int64(binding.ttlMilliseconds))
        object["pollInterval"] = .integer(Int64(binding.pollIntervalMilliseconds))
        return object
    }

    private func storedTaskStatus(_ stored: StoredRun) -> (String, String?) {
        if stored.cancelRequested && stored.status != .waiting { return ("cancelled", "The task was cancelled by request.") }
        switch stored.status {
        case .completed: return ("completed", "The plan completed.")
        case .failed: return ("failed", stored.error?["message"]?.stringValue)
        case .cancelled: return ("cancelled", stored.error?["message"]?.stringValue)
        case .waiting: return ("input_required", "Waiting for the client's answer.")
        case .running, .interrupted:
            // A question asked from this process (a sampled run asks here) shows too.
            let asking = state.withLock { $0.tasks[stored.id]?.inputsWaiting ?? 0 } > 0
            return asking ? ("input_required", "Waiting for the client's answer.") : ("working", "The plan is running.")
        }
    }

    /// How a stored task ended, as `tasks/result` answers it; nil while it goes on.
    private static func storedTaskResult(_ stored: StoredRun) -> RunResult? {
        guard let result = RunResult(stored: stored) else { return nil }
        if stored.cancelRequested || stored.status == .cancelled {
            return RunResult(status: .cancelled, errorType: "cancelled", errorMessage: "The task was cancelled by request.")
        }
        return result
    }

    func storedTasksGet(_ params: JSONObject) async throws -> JSONValue {
        let (stored, binding) = try await ownStoredTask(params)
        return .object(storedTaskObject(stored, binding: binding))
    }

    /// `tasks/result`: follows the task in the store to its end, asking each question it
    /// stops at on this request's stream, then answers what the call would have.
    func storedTasksResult(_ params: JSONObject, outbound: any MCPOutbound) async throws -> JSONValue {
        var (stored, _) = try await ownStoredTask(params)
        let wakeups = durableExecutor?.opened.wakeups
        _ = wakeups?.watchEvents(runID: stored.id)
        defer { wakeups?.unwatchEvents(runID: stored.id) }
        while true {
            if let final = Self.storedTaskResult(stored) {
                var value = try Self.toolResult(final).get()
                if case .object(var object) = value {
                    object["_meta"] = [Self.relatedTaskKey: ["taskId": .string(stored.id)]]
                    value = .object(object)
                }
                return value
            }
            let seen = wakeups?.eventGeneration(runID: stored.id)
            if stored.status == .waiting, let question = stored.pendingInput {
                await askStored(question, runID: stored.id, outbound: outbound)
            }
            // Parking a run writes no event: a short wait catches it between wake-ups.
            if let wakeups, let seen {
                await wakeups.waitForEvents(runID: stored.id, seen: seen, timeout: .seconds(1))
            } else {
                try await Task.sleep(for: .milliseconds(200))
            }
            try Task.checkCancellation()
            guard let again = try await storedRun(stored.id) else { throw Self.taskNotFound }
            stored = again
        }
    }

    func storedTasksList(_ params: JSONObject) async throws -> JSONValue {
        if params["cursor"] != nil { throw JSONRPCError.invalidParams("Invalid params: unknown cursor") }
        guard let durable = durableExecutor else { return ["tasks": []] }
        let runs: [StoredRun]
        do {
            runs = try await durable.store.runs(RunFilter(user: user, taskSession: sessionID, limit: server.configuration.maxTasksPerSession))
        } catch {
            throw JSONRPCError(code: JSONRPCError.internalError, message: "Internal error: the tasks could not be read from the store: \(error.message)")
        }
        let now = Date()
        // Oldest first, as they were made.
        let tasks: [JSONValue] = runs.reversed().compactMap { run in
            Self.binding(of: run, user: user, session: sessionID, now: now).map { .object(storedTaskObject(run, binding: $0)) }
        }
        return ["tasks": .array(tasks)]
    }

    /// `tasks/cancel`: the cancel is asked in the store first — a run parking at its question
    /// meanwhile sees it there and ends cancelled — then the run executing here is stopped.
    func storedTasksCancel(_ params: JSONObject) async throws -> JSONValue {
        let (stored, binding) = try await ownStoredTask(params)
        let status = storedTaskObject(stored, binding: binding)["status"]?.stringValue ?? "working"
        guard ["working", "input_required"].contains(status), let durable = durableExecutor else {
            throw JSONRPCError.invalidParams("Cannot cancel task: it is already \(status)")
        }
        let cancelled: StoredRun
        do {
            cancelled = try await durable.store.requestCancel(id: stored.id)
        } catch {
            throw JSONRPCError(code: JSONRPCError.internalError, message: "Internal error: the task could not be cancelled in the store: \(error.message)")
        }
        _ = server.runs.registry.run(id: stored.id).map { $0.cancel(reason: "cancelled by tasks/cancel") }
        var object = storedTaskObject(cancelled, binding: binding)
        object["status"] = "cancelled"
        object["statusMessage"] = "The task was cancelled by request."
        return .object(object)
    }
}
