import Foundation
import SluiceEngine
import SluiceJSON
import SluiceRunLog
import Synchronization

/// A task-augmented `tools/call` (MCP 2025-11-25): the run goes on after the call returns.
struct MCPTask: Sendable {
    var record: RunRecord
    var createdAt: Date
    var updatedAt: Date
    var ttlMilliseconds: Int
    var pollIntervalMilliseconds: Int
    /// Set by `tasks/cancel`: the task stays `cancelled` whatever the run does next.
    var cancelledByRequest = false
    /// Elicitations waiting for the client (`input_required` while above zero).
    var inputsWaiting = 0

    var taskID: String { record.id }

    var status: String {
        if cancelledByRequest { return "cancelled" }
        switch record.status {
        case .running: return inputsWaiting > 0 ? "input_required" : "working"
        case .waiting: return "input_required"
        case .completed: return "completed"
        case .failed: return "failed"
        case .cancelled: return "cancelled"
        }
    }

    var isTerminal: Bool { cancelledByRequest || record.status.isFinished }

    var jsonValue: JSONValue {
        var object: JSONObject = [
            "taskId": .string(taskID),
            "status": .string(status),
        ]
        if let message = statusMessage { object["statusMessage"] = .string(message) }
        let updated = max(updatedAt, record.finishedAt ?? updatedAt)
        object["createdAt"] = .string(EventTime.iso8601(createdAt))
        object["lastUpdatedAt"] = .string(EventTime.iso8601(updated))
        object["ttl"] = .integer(Int64(ttlMilliseconds))
        object["pollInterval"] = .integer(Int64(pollIntervalMilliseconds))
        return .object(object)
    }

    private var statusMessage: String? {
        if cancelledByRequest { return "The task was cancelled by request." }
        switch record.status {
        case .running: return inputsWaiting > 0 ? "Waiting for the client's answer." : "The plan is running."
        case .waiting: return "Waiting for the client's answer."
        case .completed: return "The plan completed."
        case .failed, .cancelled: return record.result?.errorMessage
        }
    }
}

extension MCPSession {
    static let relatedTaskKey = "io.modelcontextprotocol/related-task"

    func startTask(plan: ServedPlan, inputs: JSONValue, params: JSONObject, traceparent: String? = nil) async throws -> JSONValue {
        let configuration = server.configuration
        let requestedTTL = params["ttl"]?.integerValue.map { Int($0) }
        let ttl = min(requestedTTL ?? configuration.taskTTLMilliseconds, configuration.taskTTLMilliseconds)
        if durableExecutor != nil {
            return try await startStoredTask(plan: plan, inputs: inputs, ttl: max(0, ttl), traceparent: traceparent)
        }
        // The run id doubles as the task id; elicitations need it before the run starts, so the
        // services look it up lazily through a box filled right after start.
        let taskIDBox = TaskIDBox()
        var services = runServices(outbound: unrelated, relatedTask: taskIDBox)
        services.traceparent = traceparent
        let record: RunRecord
        do {
            record = try await server.runs.start(plan: plan, inputs: inputs, user: user, services: services)
        } catch {
            throw JSONRPCError.runFailed(type: "unavailable", message: error.description)
        }
        taskIDBox.set(record.id)
        let now = Date()
        let task = MCPTask(record: record, createdAt: now, updatedAt: now, ttlMilliseconds: max(0, ttl), pollIntervalMilliseconds: configuration.taskPollIntervalMilliseconds)
        state.withLock { state in
            state.tasks[task.taskID] = task
            state.taskOrder.append(task.taskID)
            evictTasks(&state)
        }
        return ["task": task.jsonValue]
    }

    /// Forgets expired tasks and, over the bound, the oldest finished ones.
    private func evictTasks(_ state: inout State) {
        let now = Date()
        state.taskOrder.removeAll { id in
            guard let task = state.tasks[id] else { return true }
            let expired = task.isTerminal && now.timeIntervalSince(task.createdAt) * 1000 > Double(task.ttlMilliseconds)
            if expired { state.tasks.removeValue(forKey: id) }
            return expired
        }
        while state.taskOrder.count > server.configuration.maxTasksPerSession,
              let index = state.taskOrder.firstIndex(where: { state.tasks[$0]?.isTerminal ?? true }) {
            state.tasks.removeValue(forKey: state.taskOrder.remove(at: index))
        }
    }

    private func task(_ params: JSONObject) throws(JSONRPCError) -> MCPTask {
        guard let id = params["taskId"]?.stringValue else {
            throw JSONRPCError.invalidParams("Invalid params: 'taskId' is required")
        }
        guard let task = state.withLock({ $0.tasks[id] }) else {
            throw JSONRPCError.invalidParams("Failed to retrieve task: Task not found")
        }
        return task
    }

    func taskStatus(_ params: JSONObject) throws(JSONRPCError) -> MCPTask {
        try task(params)
    }

    /// `tasks/result`: waits for the end, then answers exactly what the call would have.
    func taskResult(_ params: JSONObject) async throws -> JSONValue {
        let task = try task(params)
        let result = await task.record.waitForResult()
        let cancelled = state.withLock { $0.tasks[task.taskID]?.cancelledByRequest ?? false }
        let final = cancelled ? RunResult(status: .cancelled, errorType: "cancelled", errorMessage: "The task was cancelled by request.") : result
        var value = try Self.toolResult(final).get()
        if case .object(var object) = value {
            object["_meta"] = [Self.relatedTaskKey: ["taskId": .string(task.taskID)]]
            value = .object(object)
        }
        return value
    }

    func tasksList(_ params: JSONObject) throws(JSONRPCError) -> JSONValue {
        if params["cursor"] != nil {
            // Every task fits one page, so no cursor is ever handed out.
            throw JSONRPCError.invalidParams("Invalid params: unknown cursor")
        }
        let tasks = state.withLock { state in
            evictTasks(&state)
            return state.taskOrder.compactMap { state.tasks[$0] }
        }
        return ["tasks": .array(tasks.map(\.jsonValue))]
    }

    func cancelTask(_ params: JSONObject) throws(JSONRPCError) -> JSONValue {
        let task = try task(params)
        guard !task.isTerminal else {
            throw JSONRPCError.invalidParams("Cannot cancel task: it is already \(task.status)")
        }
        task.record.cancel(reason: "cancelled by tasks/cancel")
        let updated = state.withLock { state -> MCPTask in
            state.tasks[task.taskID]?.cancelledByRequest = true
            state.tasks[task.taskID]?.updatedAt = Date()
            return state.tasks[task.taskID] ?? task
        }
        return updated.jsonValue
    }

    /// Marks a task as waiting for (or no longer waiting for) the client's input.
    func taskInput(_ taskID: String, waiting: Bool) {
        state.withLock { state in
            guard state.tasks[taskID] != nil else { return }
            state.tasks[taskID]?.inputsWaiting += waiting ? 1 : -1
            state.tasks[taskID]?.updatedAt = Date()
        }
    }
}
