import SluiceEngine
import SluiceJSON
import SluiceRunLog

/// Renders run events as MCP notifications in seed 001's shapes.
///
/// - status changes: `notifications/message` with `{level, data: {msg: {status, message, details}}, extra: null}`;
///   the first (`run.started`) carries the run's `session_id`;
/// - model usage: `{level, data: {msg: {type: "model_usage", data: {model_provider, model_name, input_tokens, output_tokens}}}}`;
/// - `notifications/progress` (strictly increasing) when the call has a progress token: one
///   per finished announced step (one whose plan gives it a `status` or `message`) and one at
///   the end of the run.
///
/// Levels follow what a person follows: at `info` each announced stage as it starts (its
/// status and message), gate results, usage per model call and the run's start and end; at
/// `debug` also steps the plan does not announce (`set`, `template` …), every step's
/// completion with its output, skips and streamed text. docs/mcp.md lists them.
struct MCPEventRenderer {
    var progressToken: JSONValue?
    /// Added to every notification's `_meta` (`io.modelcontextprotocol/related-task` for tasks).
    var meta: JSONObject?
    private var finishedSteps = 0
    /// Executions (step, item, iteration) whose start was announced: their end counts as progress.
    private var announced: Set<StepExecution> = []

    private struct StepExecution: Hashable {
        var step: String?
        var item: Int?
        var iteration: Int?

        init(_ event: RunEvent) {
            step = event.step
            item = event.item
            iteration = event.iteration
        }
    }

    init(progressToken: JSONValue?, meta: JSONObject? = nil) {
        self.progressToken = progressToken
        self.meta = meta
    }

    /// The notifications for one event, filtered by the session's minimum log level.
    mutating func notifications(for event: RunEvent, minimumLevel: MCPLogLevel) -> [JSONRPCMessage] {
        renderedNotifications(for: event, minimumLevel: minimumLevel).map(\.message)
    }

    /// The notifications for one event, each with its progress value (nil for a log message):
    /// with the stored event, that is all it takes to render the same message again
    /// (``logNotification(for:meta:)``, ``progressNotification(for:token:progress:meta:)``).
    mutating func renderedNotifications(for event: RunEvent, minimumLevel: MCPLogLevel) -> [(message: JSONRPCMessage, progress: Int?)] {
        var messages: [(message: JSONRPCMessage, progress: Int?)] = []
        // The level first: most events (streamed text, completions) are below `info`, and
        // building their message only to drop it was most of the rendering.
        if let level = Self.level(of: event), level >= minimumLevel, let (_, message) = Self.logNotification(for: event, meta: meta) {
            messages.append((message, nil))
        }
        if event.type == .stepStarted, Self.isAnnounced(event) { announced.insert(StepExecution(event)) }
        let progresses = event.type.endsRun || event.type.endsStep && announced.remove(StepExecution(event)) != nil
        if let progressToken, progresses {
            finishedSteps += 1
            messages.append((Self.progressNotification(for: event, token: progressToken, progress: finishedSteps, meta: meta), finishedSteps))
        }
        return messages
    }

    /// The `notifications/message` for an event, with its level (before any level filter).
    static func logNotification(for event: RunEvent, meta: JSONObject?) -> (MCPLogLevel, JSONRPCMessage)? {
        guard let (level, data) = logMessage(for: event) else { return nil }
        var params: JSONObject = ["level": .string(level.rawValue), "data": data]
        if event.type != .modelUsage { params["extra"] = .null }
        if let meta { params["_meta"] = .object(meta) }
        return (level, .notification(method: "notifications/message", params: .object(params)))
    }

    /// The `notifications/progress` for an event that ends a step or the run.
    static func progressNotification(for event: RunEvent, token: JSONValue, progress: Int, meta: JSONObject?) -> JSONRPCMessage {
        var params: JSONObject = [
            "progressToken": token,
            "progress": .integer(Int64(progress)),
            "message": .string(progressMessage(for: event)),
        ]
        if let meta { params["_meta"] = .object(meta) }
        return .notification(method: "notifications/progress", params: .object(params))
    }

    private static func progressMessage(for event: RunEvent) -> String {
        switch event.type {
        case .runCompleted: "run completed"
        case .runFailed: "run failed"
        case .runCancelled: "run cancelled"
        default: "\(event.type.rawValue) \(event.step ?? "")"
        }
    }

    /// Whether the plan announces the step: it gave the step a `status` or a `message`.
    static func isAnnounced(_ event: RunEvent) -> Bool {
        event.data["status"] != nil || event.data["message"] != nil
    }

    /// The level of the `notifications/message` for an event (nil: it has none).
    static func level(of event: RunEvent) -> MCPLogLevel? {
        switch event.type {
        case .runStarted, .gateEvaluated, .modelUsage, .runCompleted: .info
        case .stepStarted: isAnnounced(event) ? .info : .debug
        case .stepDelta, .stepCompleted, .stepSkipped: .debug
        case .stepRetrying, .runCancelled: .warning
        case .stepFailed, .runFailed: .error
        case .inputRequested: .notice
        default: nil
        }
    }

    /// `(level, data)` of the `notifications/message` for an event.
    static func logMessage(for event: RunEvent) -> (MCPLogLevel, JSONValue)? {
        guard let level = level(of: event) else { return nil }
        let data = event.data
        func msg(_ status: String, _ message: String, _ details: JSONValue) -> JSONValue {
            ["msg": ["status": .string(status), "message": .string(message), "details": details]]
        }
        var place = JSONObject()
        if let step = event.step { place["step"] = .string(step) }
        if let item = event.item { place["item"] = .integer(Int64(item)) }
        if let iteration = event.iteration { place["iteration"] = .integer(Int64(iteration)) }
        func details(_ extra: [(String, JSONValue?)]) -> JSONValue {
            var object = place
            for (key, value) in extra { if let value { object[key] = value } }
            return .object(object)
        }
        let step = event.step ?? ""
        switch event.type {
        case .runStarted:
            let title = data["title"]?.stringValue ?? data["plan"]?.stringValue ?? "plan"
            return (level, msg("started", "Started \(title)", [
                "session_id": .string(event.runID), "plan": data["plan"] ?? .null, "inputs": data["inputs"] ?? .null,
            ]))
        case .stepStarted:
            let status = data["status"]?.stringValue ?? step
            let message = data["message"]?.stringValue ?? data["title"]?.stringValue ?? "Running \(step)"
            // A step's own details (seed 001's generating_sections {id, name, content}) win.
            return (level, msg(status, message, data["details"] ?? details([("kind", data["kind"]), ("items", data["items"])])))
        case .stepDelta:
            return (level, msg("streaming", "Text of \(step)", details([("text", data["text"])])))
        case .stepCompleted:
            return (level, msg("step_completed", "Finished \(step)", details([("duration_ms", data["duration_ms"]), ("output", data["output"])])))
        case .stepSkipped:
            return (level, msg("step_skipped", "Skipped \(step)", details([("reason", data["reason"])])))
        case .stepRetrying:
            return (level, msg("step_retrying", "Retrying \(step)", details([("attempt", data["attempt"]), ("reason", data["reason"])])))
        case .stepFailed:
            let message = data["error"]?["message"]?.stringValue ?? "failed"
            return (level, msg("step_failed", "\(step) failed: \(message)", details([("error", data["error"])])))
        case .gateEvaluated:
            let score = data["score"].map { $0.serialized(pretty: false) } ?? "?"
            let threshold = data["threshold"].map { $0.serialized(pretty: false) } ?? "?"
            let passed = data["passed"]?.boolValue == true
            return (level, msg("quality_evaluated", "Quality score \(score) against \(threshold): \(passed ? "passed" : "not yet")", details([
                ("scores", data["scores"]), ("score", data["score"]), ("threshold", data["threshold"]),
                ("passed", data["passed"]), ("feedback", data["feedback"]),
            ])))
        case .modelUsage:
            return (level, ["msg": [
                "type": "model_usage",
                "data": [
                    "model_provider": data["provider"] ?? .null,
                    "model_name": data["model"] ?? .null,
                    "input_tokens": data["input_tokens"] ?? .integer(0),
                    "output_tokens": data["output_tokens"] ?? .integer(0),
                ],
            ]])
        case .inputRequested:
            return (level, msg("input_requested", data["message"]?.stringValue ?? "Waiting for confirmation", details([("details", data["details"])])))
        case .runCompleted:
            return (level, msg("completed", "Completed", ["session_id": .string(event.runID), "usage": data["usage"] ?? .null, "billing": data["billing"] ?? .null]))
        case .runFailed:
            let message = data["error"]?["message"]?.stringValue ?? "the run failed"
            return (level, msg("failed", message, ["session_id": .string(event.runID), "error": data["error"] ?? .null]))
        case .runCancelled:
            return (level, msg("cancelled", "Cancelled: \(data["reason"]?.stringValue ?? "")", ["session_id": .string(event.runID)]))
        default:
            return nil
        }
    }
}
