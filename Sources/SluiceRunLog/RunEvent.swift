public import Foundation
public import SluiceJSON

/// The kind of a ``RunEvent``, spelled as on the wire (`step.started`).
public struct EventType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let runStarted = EventType(rawValue: "run.started")
    public static let stepStarted = EventType(rawValue: "step.started")
    /// Streamed text: `data.text`.
    public static let stepDelta = EventType(rawValue: "step.delta")
    public static let stepCompleted = EventType(rawValue: "step.completed")
    public static let stepSkipped = EventType(rawValue: "step.skipped")
    public static let stepRetrying = EventType(rawValue: "step.retrying")
    public static let stepFailed = EventType(rawValue: "step.failed")
    public static let gateEvaluated = EventType(rawValue: "gate.evaluated")
    public static let modelUsage = EventType(rawValue: "model.usage")
    public static let inputRequested = EventType(rawValue: "input.requested")
    public static let runCompleted = EventType(rawValue: "run.completed")
    public static let runFailed = EventType(rawValue: "run.failed")
    public static let runCancelled = EventType(rawValue: "run.cancelled")
    /// A stopped run continues from its checkpoints (`sluice runs resume`); its events follow
    /// the stored log's last `seq`.
    public static let runResumed = EventType(rawValue: "run.resumed")

    public static let all: [EventType] = [
        .runStarted, .stepStarted, .stepDelta, .stepCompleted, .stepSkipped, .stepRetrying, .stepFailed,
        .gateEvaluated, .modelUsage, .inputRequested, .runCompleted, .runFailed, .runCancelled, .runResumed,
    ]

    /// Whether this event ends a run (`run.completed`, `run.failed`, `run.cancelled`).
    public var endsRun: Bool { self == .runCompleted || self == .runFailed || self == .runCancelled }

    /// Whether this event ends a step (`step.completed`, `step.skipped`, `step.failed`).
    public var endsStep: Bool { self == .stepCompleted || self == .stepSkipped || self == .stepFailed }

    public var description: String { rawValue }
}

/// One event of a run: what every transport (terminal, NDJSON, SSE, MCP) renders.
///
/// The JSON form, one per line in NDJSON (absent fields are omitted):
/// ```json
/// {"seq":1,"run_id":"run_…","time":"2026-11-21T00:23:59.123Z","type":"step.started","step":"outline","item":0,"iteration":1,"data":{}}
/// ```
public struct RunEvent: Sendable {
    /// 1, 2, 3… per run, strictly increasing in delivery order.
    public var seq: Int
    public var runID: String
    public var time: Date
    public var type: EventType
    /// The step id, for step events.
    public var step: String?
    /// The index inside a `map`, for steps of a map body.
    public var item: Int?
    /// The loop round (from 1), for steps of a loop body.
    public var iteration: Int?
    public var data: JSONValue
    /// The step execution this `step.completed`/`step.skipped` finished, for stores (never on the wire).
    public var checkpoint: StepCheckpoint?

    public init(
        seq: Int, runID: String, time: Date, type: EventType,
        step: String? = nil, item: Int? = nil, iteration: Int? = nil, data: JSONValue = .object(JSONObject())
    ) {
        self.seq = seq
        self.runID = runID
        self.time = time
        self.type = type
        self.step = step
        self.item = item
        self.iteration = iteration
        self.data = data
    }

    /// The event as a JSON object, in the documented member order.
    public var jsonValue: JSONValue {
        var object = JSONObject()
        object["seq"] = .integer(Int64(seq))
        object["run_id"] = .string(runID)
        object["time"] = .string(EventTime.iso8601(time))
        object["type"] = .string(type.rawValue)
        if let step { object["step"] = .string(step) }
        if let item { object["item"] = .integer(Int64(item)) }
        if let iteration { object["iteration"] = .integer(Int64(iteration)) }
        object["data"] = data
        return .object(object)
    }

    /// The event as one line of compact JSON (no newline).
    public var jsonLine: String { jsonValue.serialized(pretty: false) }

    /// The streamed text of a `step.delta` (empty for other events).
    public var deltaText: String { data["text"]?.stringValue ?? "" }
}

/// Formats event times as ISO 8601 in UTC with milliseconds (`2026-11-21T00:23:59.123Z`).
public enum EventTime {
    public static func iso8601(_ date: Date) -> String {
        // Rounded, not truncated: Date stores seconds as a Double, so 0.999 s may read as 998.9999 ms.
        let totalMilliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
        var seconds = time_t(totalMilliseconds.floorDivided(by: 1000))
        let milliseconds = Int(totalMilliseconds - Int64(seconds) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return pad(Int(parts.tm_year) + 1900, 4) + "-" + pad(Int(parts.tm_mon) + 1, 2) + "-" + pad(Int(parts.tm_mday), 2)
            + "T" + pad(Int(parts.tm_hour), 2) + ":" + pad(Int(parts.tm_min), 2) + ":" + pad(Int(parts.tm_sec), 2)
            + "." + pad(milliseconds, 3) + "Z"
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}

extension Int64 {
    /// Division rounding toward negative infinity (dates before 1970 stay correct).
    fileprivate func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
