import Foundation
import SluiceEngine
import SluiceJSON
import SluiceRunLog

extension TerminalRenderer {
    /// The lines that stay on screen for `event` (the same in plain and live mode).
    func permanentLines(for event: RunEvent) -> [String] {
        let data = event.data
        let step = event.step ?? ""
        let label = stepLabel(event)
        switch event.type {
        case .runStarted:
            let plan = data["plan"]?.stringValue ?? "plan"
            let title = data["title"]?.stringValue.map { " — \($0)" } ?? ""
            return [style.bold("▶ \(plan)\(title)") + style.dim("  \(event.runID)")]
        case .stepStarted:
            let kind = data["kind"]?.stringValue ?? ""
            var line = "  " + style.dim("started") + "   \(label)"
            if let message = data["message"]?.stringValue, !message.isEmpty { line += " — \(message)" }
            if kind == "map", let items = data["items"]?.integerValue { line += style.dim(" (\(items) items)") }
            // On a TTY the live block shows running steps; only say it in plain output.
            return options.isTTY ? [] : [line]
        case .stepCompleted:
            var line = "  " + style.green("✓") + " \(label)  " + style.dim(duration(event))
            if let failed = data["failed_items"]?.arrayValue, !failed.isEmpty {
                line += style.yellow("  (\(failed.count) item\(failed.count == 1 ? "" : "s") failed)")
            }
            return [line]
        case .stepSkipped:
            let reason = data["reason"]?.stringValue ?? "skipped"
            return ["  " + style.dim("– \(label) skipped (\(reason))")]
        case .stepRetrying:
            let attempt = data["attempt"]?.integerValue ?? 0
            let maxAttempts = data["max_attempts"]?.integerValue ?? 0
            let delay = (data["delay_ms"]?.doubleValue ?? 0) / 1000
            let reason = data["reason"]?.stringValue ?? ""
            return ["  " + style.yellow("↻ \(label) retrying (attempt \(attempt + 1)/\(maxAttempts) in \(TerminalFormat.duration(seconds: delay))): \(reason)")]
        case .stepFailed:
            let message = data["error"]?["message"]?.stringValue ?? "failed"
            return ["  " + style.red("✗ \(label) failed") + "  " + style.dim(duration(event)) + "  \(message)"]
        case .gateEvaluated:
            return [gateLine(event, step: step)]
        case .inputRequested:
            let message = data["message"]?.stringValue ?? "input requested"
            return ["  " + style.yellow("? \(label): \(message)")]
        case .runCompleted:
            return completedLines(event)
        case .runFailed:
            let type = data["error"]?["type"]?.stringValue ?? "error"
            let message = data["error"]?["message"]?.stringValue ?? ""
            return [style.red("✗ failed") + " (\(type)) after \(runDuration(event)): \(message)"] + usageLines(data["usage"])
        case .runCancelled:
            return [style.yellow("■ cancelled") + " after \(runDuration(event))"] + usageLines(data["usage"])
        default:
            return []
        }
    }

    private func gateLine(_ event: RunEvent, step: String) -> String {
        let data = event.data
        let score = data["score"]?.doubleValue ?? 0
        let threshold = data["threshold"]?.doubleValue ?? 0
        let passed = data["passed"]?.boolValue ?? false
        let round = (data["iteration"]?.integerValue ?? event.iteration.map { Int64($0) }).map { " round \($0)" } ?? ""
        let verdict = passed ? style.green("passed") : style.yellow("below threshold")
        var line = "  ◆ \(step)\(round): \(TerminalFormat.score(score)) / \(TerminalFormat.score(threshold)) \(verdict)"
        if let scores = data["scores"]?.objectValue, !scores.isEmpty {
            let parts = scores.members.map { "\($0.key) \(TerminalFormat.score($0.value.doubleValue ?? 0))" }
            line += style.dim("  " + parts.joined(separator: " · "))
        }
        return line
    }

    private func completedLines(_ event: RunEvent) -> [String] {
        var lines = [style.green("✓ completed") + " in \(runDuration(event))"]
        lines += usageLines(event.data["usage"])
        return lines
    }

    private func usageLines(_ usage: JSONValue?) -> [String] {
        guard let usage, let input = usage["input_tokens"]?.integerValue, let output = usage["output_tokens"]?.integerValue else {
            return []
        }
        var line = "  tokens: \(TerminalFormat.count(Int(input + output))) (\(TerminalFormat.count(Int(input))) in, \(TerminalFormat.count(Int(output))) out)"
        if let cost = usage["cost_usd"]?.doubleValue { line += " · cost: \(TerminalFormat.usd(cost))" }
        if usage["simulated"]?.boolValue == true { line += style.dim(" (simulated)") }
        return [line]
    }

    private func stepLabel(_ event: RunEvent) -> String {
        var label = style.cyan(event.step ?? "")
        if let item = event.item { label += " [\(item + 1)]" }
        if let iteration = event.iteration, event.type != .gateEvaluated { label += style.dim(" · round \(iteration)") }
        return label
    }

    private func duration(_ event: RunEvent) -> String {
        if let ms = event.data["duration_ms"]?.doubleValue { return TerminalFormat.duration(seconds: ms / 1000) }
        let key = StepKey(step: event.step ?? "", item: event.item, iteration: event.iteration)
        guard let started = active.last(where: { $0.key == key })?.started else { return "" }
        return TerminalFormat.duration(seconds: event.time.timeIntervalSince(started))
    }

    private func runDuration(_ event: RunEvent) -> String {
        if let ms = event.data["duration_ms"]?.doubleValue { return TerminalFormat.duration(seconds: ms / 1000) }
        return TerminalFormat.duration(seconds: runStarted.map { event.time.timeIntervalSince($0) } ?? 0)
    }
}
