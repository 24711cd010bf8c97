import Foundation
import SluiceEngine
import SluiceJSON
public import SluiceRunLog
import Synchronization

/// The numbers `GET /metrics` reports, in Prometheus text format: runs by plan and outcome,
/// active runs, step durations (histogram), tokens by model, HTTP requests by route and status.
public final class ServerMetrics: RunObserver, Sendable {
    /// Upper bounds of the step-duration histogram, in seconds.
    public static let durationBuckets: [Double] = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]

    private struct Histogram {
        var counts = [Int](repeating: 0, count: ServerMetrics.durationBuckets.count)
        var sum = 0.0
        var count = 0
    }

    private struct State {
        var runs: [String: Int] = [:]            // "plan\u{0}outcome"
        var active = 0
        var steps: [String: Histogram] = [:]     // by plan
        var tokens: [String: Int] = [:]          // "model\u{0}direction"
        var requests: [String: Int] = [:]        // "method\u{0}route\u{0}status"
    }

    private let state = Mutex(State())

    public init() {}

    public func runStarted(plan: String) {
        state.withLock { $0.active += 1 }
    }

    public func runEvent(_ event: RunEvent, plan: String) {
        switch event.type {
        case .stepCompleted, .stepFailed:
            guard let milliseconds = event.data["duration_ms"]?.doubleValue else { return }
            let seconds = milliseconds / 1000
            state.withLock { state in
                var histogram = state.steps[plan] ?? Histogram()
                for (index, bound) in Self.durationBuckets.enumerated() where seconds <= bound { histogram.counts[index] += 1 }
                histogram.sum += seconds
                histogram.count += 1
                state.steps[plan] = histogram
            }
        case .modelUsage:
            let model = "\(event.data["provider"]?.stringValue ?? "unknown"):\(event.data["model"]?.stringValue ?? "unknown")"
            let input = Int(event.data["input_tokens"]?.integerValue ?? 0)
            let output = Int(event.data["output_tokens"]?.integerValue ?? 0)
            state.withLock { state in
                state.tokens[model + "\u{0}input", default: 0] += input
                state.tokens[model + "\u{0}output", default: 0] += output
            }
        default:
            break
        }
    }

    public func runFinished(plan: String, status: RunStatus) {
        state.withLock { state in
            state.active -= 1
            state.runs[plan + "\u{0}" + status.rawValue, default: 0] += 1
        }
    }

    public func recordRequest(method: String, route: String, status: Int) {
        state.withLock { $0.requests["\(method)\u{0}\(route)\u{0}\(status)", default: 0] += 1 }
    }

    /// The Prometheus text exposition.
    public func render() -> String {
        let snapshot = state.withLock { $0 }
        var lines: [String] = []
        lines.append("# HELP sluice_runs_total Runs finished, by plan and outcome.")
        lines.append("# TYPE sluice_runs_total counter")
        for (key, count) in snapshot.runs.sorted(by: { $0.key < $1.key }) {
            let parts = key.split(separator: "\u{0}", omittingEmptySubsequences: false).map(String.init)
            lines.append("sluice_runs_total{plan=\"\(Self.escape(parts[0]))\",outcome=\"\(Self.escape(parts[1]))\"} \(count)")
        }
        lines.append("# HELP sluice_runs_active Runs in progress.")
        lines.append("# TYPE sluice_runs_active gauge")
        lines.append("sluice_runs_active \(snapshot.active)")
        lines.append("# HELP sluice_step_duration_seconds Step durations, by plan.")
        lines.append("# TYPE sluice_step_duration_seconds histogram")
        for (plan, histogram) in snapshot.steps.sorted(by: { $0.key < $1.key }) {
            let label = "plan=\"\(Self.escape(plan))\""
            for (index, bound) in Self.durationBuckets.enumerated() {
                lines.append("sluice_step_duration_seconds_bucket{\(label),le=\"\(Self.number(bound))\"} \(histogram.counts[index])")
            }
            lines.append("sluice_step_duration_seconds_bucket{\(label),le=\"+Inf\"} \(histogram.count)")
            lines.append("sluice_step_duration_seconds_sum{\(label)} \(Self.number(histogram.sum))")
            lines.append("sluice_step_duration_seconds_count{\(label)} \(histogram.count)")
        }
        lines.append("# HELP sluice_model_tokens_total Model tokens, by model and direction.")
        lines.append("# TYPE sluice_model_tokens_total counter")
        for (key, count) in snapshot.tokens.sorted(by: { $0.key < $1.key }) {
            let parts = key.split(separator: "\u{0}", omittingEmptySubsequences: false).map(String.init)
            lines.append("sluice_model_tokens_total{model=\"\(Self.escape(parts[0]))\",direction=\"\(parts[1])\"} \(count)")
        }
        lines.append("# HELP sluice_http_requests_total HTTP requests, by method, route and status.")
        lines.append("# TYPE sluice_http_requests_total counter")
        for (key, count) in snapshot.requests.sorted(by: { $0.key < $1.key }) {
            let parts = key.split(separator: "\u{0}", omittingEmptySubsequences: false).map(String.init)
            lines.append("sluice_http_requests_total{method=\"\(parts[0])\",route=\"\(Self.escape(parts[1]))\",status=\"\(parts[2])\"} \(count)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}
