import SluiceEngine
import SluiceJSON
import SluiceRunLog

/// Renders run events as seed 000's SSE: `status_update`, then `final_result` or `error`,
/// with `task_id` and `status` in every payload and the event's `seq` as its `id:`.
struct SeedEvents {
    /// Who the run is for (`final_result` and `error` carry it).
    var userID: String
    /// Added to the end events when the route has one (`/v1/extract`).
    var documentPath: String?

    func event(for event: RunEvent) -> SSEEvent {
        let data = event.data
        var payload: JSONObject = ["task_id": .string(event.runID)]
        let name: String
        switch event.type {
        case .runCompleted:
            name = "final_result"
            payload["user_id"] = .string(userID)
            if let documentPath { payload["document_path"] = .string(documentPath) }
            payload["status"] = "completed"
            payload["billing"] = data["billing"] ?? .null
            payload["result"] = data["result"] ?? .null
            payload["usage"] = data["usage"] ?? .null
        case .runFailed, .runCancelled:
            name = "error"
            payload["user_id"] = .string(userID)
            if let documentPath { payload["document_path"] = .string(documentPath) }
            payload["status"] = event.type == .runFailed ? "failed" : "cancelled"
            payload["billing"] = data["billing"] ?? ["billable": false, "reason": .string(event.type == .runFailed ? "AGENT_EXECUTION_FAILURE" : "CANCELLED")]
            payload["error_message"] = .string(data["error"]?["message"]?.stringValue ?? data["reason"]?.stringValue ?? "the run did not complete")
            // What the run spent before it stopped: every answered model call is paid for.
            if let usage = data["usage"] { payload["usage"] = usage }
            if let type = data["error"]?["type"] { payload["error_type"] = type }
        default:
            name = "status_update"
            payload["status"] = .string(Self.status(of: event))
            payload["type"] = .string(event.type.rawValue)
            if let step = event.step { payload["step"] = .string(step) }
            if let item = event.item { payload["item"] = .integer(Int64(item)) }
            if let iteration = event.iteration { payload["iteration"] = .integer(Int64(iteration)) }
            if case .object(let members) = data {
                for (key, value) in members where payload[key] == nil { payload[key] = value }
            }
        }
        return SSEEvent(id: String(event.seq), event: name, data: JSONValue.object(payload).serialized(pretty: false))
    }

    /// Seed 000's status words: `INIT` at the start, the step's own status while it runs.
    static func status(of event: RunEvent) -> String {
        switch event.type {
        case .runStarted: "INIT"
        case .stepStarted: event.data["status"]?.stringValue ?? event.step ?? "RUNNING"
        case .stepDelta: "streaming"
        case .stepCompleted: "step_completed"
        case .stepSkipped: "step_skipped"
        case .stepRetrying: "step_retrying"
        case .stepFailed: "step_failed"
        case .gateEvaluated: "quality_evaluated"
        case .modelUsage: "model_usage"
        case .inputRequested: "input_requested"
        default: event.type.rawValue
        }
    }
}
