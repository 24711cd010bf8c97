import Foundation
import SluiceCLI
import SluiceEngine
import SluiceJSON
import SluiceRunLog
import Synchronization
import Testing

/// The terminal view, fed events directly and read back (no TTY needed).
@Suite struct TerminalEventViewTests {
    /// A small run: an llm step streaming text, a map over 3 items, a gate, the end.
    static func sampleRun() -> [RunEvent] {
        var seq = 0
        func event(_ type: EventType, _ t: Double, step: String? = nil, item: Int? = nil, iteration: Int? = nil, _ data: JSONValue = [:]) -> RunEvent {
            seq += 1
            return RunEvent(seq: seq, runID: "run_x", time: Date(timeIntervalSince1970: 1000 + t), type: type, step: step, item: item, iteration: iteration, data: data)
        }
        var events = [
            event(.runStarted, 0, ["plan": "news_report", "title": "News report"]),
            event(.stepStarted, 0, step: "outline", ["kind": "llm", "message": "Planning the report"]),
            event(.stepDelta, 0.5, step: "outline", ["text": "[simulated] An outline "]),
            event(.stepDelta, 0.9, step: "outline", ["text": "about agents."]),
            event(.stepCompleted, 1.2, step: "outline", ["output": "x", "duration_ms": 1200]),
            event(.stepStarted, 1.2, step: "sections", ["kind": "map", "items": 3]),
        ]
        for item in 0..<3 {
            events.append(event(.stepStarted, 1.3, step: "section", item: item, ["kind": "llm", "parent": "sections"]))
        }
        for item in 0..<3 {
            events.append(event(.stepDelta, 1.5 + Double(item), step: "section", item: item, ["text": .string("Section \(item) text. ")]))
            events.append(event(.stepCompleted, 2 + Double(item), step: "section", item: item, ["duration_ms": 700]))
        }
        events += [
            event(.stepCompleted, 5, step: "sections", ["duration_ms": 3800]),
            event(.stepStarted, 5, step: "quality", iteration: 1, ["kind": "gate"]),
            event(.gateEvaluated, 5.5, step: "quality", iteration: 1, ["scores": ["relevance": 6.2, "depth": 6.5], "score": 6.35, "threshold": 7.0, "passed": false, "iteration": 1]),
            event(.stepCompleted, 5.5, step: "quality", iteration: 1, ["duration_ms": 500]),
            event(.stepSkipped, 5.6, step: "confirm", ["reason": "when is false"]),
            event(.runCompleted, 6, ["usage": ["input_tokens": 12000, "output_tokens": 3456, "cost_usd": 0.0123], "duration_ms": 6000]),
        ]
        return events
    }

    static func render(_ events: [RunEvent], isTTY: Bool, color: Bool) async -> String {
        let output = Mutex("")
        let view = TerminalEventView(isTTY: isTTY, useColor: color, width: 80) { text in
            output.withLock { $0 += text }
        }
        for event in events { await view.receive(event) }
        return output.withLock { $0 }
    }

    @Test func plainOutputHasALinePerStepGateScoresProgressAndTheSummary() async {
        let text = await Self.render(Self.sampleRun(), isTTY: false, color: true)
        #expect(!text.contains("\u{1B}"), "no ANSI codes when not a TTY")
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("▶ news_report — News report") == true)
        #expect(lines.contains("  started   outline — Planning the report"))
        #expect(lines.contains("  ✓ outline  1.2s"))
        #expect(lines.contains { $0.contains("started   sections (3 items)") })
        #expect(lines.contains { $0.contains("✓ section [2]") && $0.contains("(sections 2/3)") })
        #expect(lines.contains { $0.contains("✓ section [3]") && $0.contains("(sections 3/3)") })
        #expect(lines.contains("  ◆ quality round 1: 6.3 / 7.0 below threshold  relevance 6.2 · depth 6.5") || lines.contains("  ◆ quality round 1: 6.4 / 7.0 below threshold  relevance 6.2 · depth 6.5"))
        #expect(lines.contains("  – confirm skipped (when is false)"))
        #expect(lines.contains("✓ completed in 6.0s"))
        #expect(lines.contains("  tokens: 15,456 (12,000 in, 3,456 out) · cost: $0.0123"))
        #expect(!text.contains("report:"), "the view claims no file; sluice run says where it wrote once it has")
        #expect(!text.contains("An outline"), "plain output does not echo streamed text")
    }

    @Test func liveViewRedrawsRunningStepsWithProgressAndStreamedText() async {
        var events = Self.sampleRun()
        // Stop in the middle of the map to look at the live block.
        events = Array(events.prefix(while: { !($0.type == .stepCompleted && $0.step == "section" && $0.item == 1) }))
        let text = await Self.render(events, isTTY: true, color: false)
        #expect(text.contains("\u{1B}[J"), "the live block is redrawn in place")
        #expect(text.contains("… outline"))
        #expect(text.contains("about agents."), "the tail of the streamed text is shown")
        #expect(text.contains("… sections  1/3"))
        #expect(text.contains("… section [2]"))
        #expect(!text.contains("\u{1B}[36m") && !text.contains("\u{1B}[2m"), "no colours when asked for none")
    }

    @Test func ticksMoveTheElapsedTimeOfRunningSteps() async {
        let output = Mutex("")
        let view = TerminalEventView(isTTY: true, useColor: false, width: 80) { text in output.withLock { $0 += text } }
        let started = Date(timeIntervalSince1970: 1000)
        await view.receive(RunEvent(seq: 1, runID: "r", time: started, type: .stepStarted, step: "queries", data: ["kind": "llm"]))
        output.withLock { $0 = "" }
        view.tick(now: started.addingTimeInterval(4.2))
        #expect(output.withLock { $0 }.contains("… queries  4.2s"))
        let plain = TerminalEventView(isTTY: false, useColor: false) { text in output.withLock { $0 += text } }
        output.withLock { $0 = "" }
        await plain.receive(RunEvent(seq: 1, runID: "r", time: started, type: .stepStarted, step: "queries", data: ["kind": "llm"]))
        plain.tick(now: started.addingTimeInterval(4.2))
        #expect(!output.withLock { $0 }.contains("4.2s"), "no redraws in plain output")
    }

    @Test func aPausedViewWritesNothingAndDrawsWhatItHeldOnResume() async {
        let output = Mutex("")
        let view = TerminalEventView(isTTY: true, useColor: false, width: 80) { text in output.withLock { $0 += text } }
        let t = Date(timeIntervalSince1970: 1000)
        await view.receive(RunEvent(seq: 1, runID: "r", time: t, type: .stepStarted, step: "ok", data: ["kind": "confirm"]))
        await view.receive(RunEvent(seq: 2, runID: "r", time: t, type: .stepStarted, step: "other", data: ["kind": "llm"]))
        view.pause()
        #expect(output.withLock { $0 }.hasSuffix("\u{1B}[2F\u{1B}[J"), "the live block is erased before the question")
        output.withLock { $0 = "" }
        await view.receive(RunEvent(seq: 3, runID: "r", time: t.addingTimeInterval(1), type: .stepCompleted, step: "other", data: ["duration_ms": 1000]))
        view.tick(now: t.addingTimeInterval(2))
        #expect(output.withLock { $0 }.isEmpty, "nothing is drawn while asking")
        view.resume(now: t.addingTimeInterval(3))
        let drawn = output.withLock { $0 }
        #expect(drawn.hasPrefix("\r\u{1B}[J  ✓ other  1.0s\n"), "the held line comes first, without erasing the question: \(drawn.debugDescription)")
        #expect(drawn.contains("… ok  3.0s"))
    }

    @Test func coloursOnlyOnATTYAndNeverWithNoColor() async {
        let coloured = await Self.render(Self.sampleRun(), isTTY: true, color: true)
        #expect(coloured.contains("\u{1B}[32m✓"))
        let notTTY = await Self.render(Self.sampleRun(), isTTY: false, color: true)
        #expect(!notTTY.contains("\u{1B}"))
        #expect(TerminalEventView.colorAllowed(environment: ["NO_COLOR": "1"]) == false)
        #expect(TerminalEventView.colorAllowed(environment: ["NO_COLOR": ""]) == false)
        #expect(TerminalEventView.colorAllowed(environment: [:]) == true)
    }

    @Test func failuresRetriesAndCancellationAreShown() async {
        let t = Date(timeIntervalSince1970: 0)
        let events = [
            RunEvent(seq: 1, runID: "r", time: t, type: .runStarted, data: ["plan": "p"]),
            RunEvent(seq: 2, runID: "r", time: t, type: .stepStarted, step: "search", data: ["kind": "search"]),
            RunEvent(seq: 3, runID: "r", time: t, type: .stepRetrying, step: "search", data: ["attempt": 1, "max_attempts": 3, "delay_ms": 500, "reason": "timeout"]),
            RunEvent(seq: 4, runID: "r", time: t.addingTimeInterval(2), type: .stepFailed, step: "search", data: ["error": ["type": "provider_error", "message": "boom"], "duration_ms": 2000]),
            RunEvent(seq: 5, runID: "r", time: t.addingTimeInterval(2), type: .runFailed, data: ["error": ["type": "step_failed", "message": "search failed"], "duration_ms": 2000]),
        ]
        let text = await Self.render(events, isTTY: false, color: false)
        #expect(text.contains("↻ search retrying (attempt 2/3 in 0.5s): timeout"))
        #expect(text.contains("✗ search failed  2.0s  boom"))
        #expect(text.contains("✗ failed (step_failed) after 2.0s: search failed"))
        let cancelled = await Self.render([RunEvent(seq: 1, runID: "r", time: t, type: .runCancelled, data: ["duration_ms": 1500])], isTTY: false, color: false)
        #expect(cancelled == "■ cancelled after 1.5s\n")
    }
}

@Suite(.timeLimit(.minutes(1))) struct TerminalInputProviderTests {
    static func ask(_ answers: [String?]) async throws -> (Bool, String) {
        let remaining = Mutex(answers)
        let output = Mutex("")
        let provider = TerminalInputProvider(write: { text in output.withLock { $0 += text } }) {
            remaining.withLock { $0.isEmpty ? nil : $0.removeFirst() }
        }
        let request = ConfirmationRequest(runID: "r", step: "ok", message: "Write the report?", details: ["sections": ["A", "B"]])
        let approved = try await provider.confirm(request)
        return (approved, output.withLock { $0 })
    }

    @Test(arguments: [(["y"], true), ([""], true), (["no"], false), (["what", "yes"], true), ([nil], false)] as [([String?], Bool)])
    func answersDecide(answers: [String?], expected: Bool) async throws {
        let (approved, output) = try await Self.ask(answers)
        #expect(approved == expected)
        #expect(output.contains("Write the report?"))
        #expect(output.contains("\"sections\""))
        #expect(output.contains("Approve? [Y/n]"))
    }

    /// The answer is held back until the cancelled wait has ended, so the test does not depend on
    /// how fast a loaded machine schedules the cancellation (it failed once under CI load when a
    /// 0.5 s answer beat a 10 ms cancel).
    @Test func cancellingStopsWaitingForAnAnswer() async throws {
        let answer = DispatchSemaphore(value: 0)
        let provider = TerminalInputProvider(write: { _ in }) {
            answer.wait()
            return "y"
        }
        let task = Task {
            try await provider.confirm(ConfirmationRequest(runID: "r", step: "s", message: "?", details: .null))
        }
        try await Task.sleep(for: .milliseconds(10))
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        answer.signal()
    }
}
