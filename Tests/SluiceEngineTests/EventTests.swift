import SluiceRunLog
import Synchronization
import Foundation
import SluiceEngine
import SluiceJSON
import SluiceTesting
import Testing

@Suite struct RunEventTests {
    @Test func jsonFormHasTheDocumentedMembersInOrder() {
        let event = RunEvent(
            seq: 1, runID: "run_1", time: Date(timeIntervalSince1970: 1_763_683_439.123), type: .stepStarted,
            step: "outline", item: 0, iteration: 1, data: ["kind": "llm"]
        )
        #expect(event.jsonLine == #"{"seq":1,"run_id":"run_1","time":"2025-11-21T00:03:59.123Z","type":"step.started","step":"outline","item":0,"iteration":1,"data":{"kind":"llm"}}"#)
    }

    @Test func absentFieldsAreOmitted() {
        let event = RunEvent(seq: 7, runID: "r", time: Date(timeIntervalSince1970: 0), type: .runStarted)
        #expect(event.jsonLine == #"{"seq":7,"run_id":"r","time":"1970-01-01T00:00:00.000Z","type":"run.started","data":{}}"#)
    }

    @Test(arguments: [
        (0.0, "1970-01-01T00:00:00.000Z"), (0.999, "1970-01-01T00:00:00.999Z"),
        (-0.5, "1969-12-31T23:59:59.500Z"), (951_782_400.25, "2000-02-29T00:00:00.250Z"),
    ])
    func timesAreUTCWithMilliseconds(seconds: Double, expected: String) {
        #expect(EventTime.iso8601(Date(timeIntervalSince1970: seconds)) == expected)
    }

    @Test func ndjsonWritesOneLinePerEvent() async {
        let lines = LineCollector()
        let sink = NDJSONEventSink { lines.append($0) }
        await sink.receive(RunEvent(seq: 1, runID: "r", time: Date(timeIntervalSince1970: 0), type: .runStarted))
        await sink.receive(RunEvent(seq: 2, runID: "r", time: Date(timeIntervalSince1970: 0), type: .stepDelta, step: "s", data: ["text": "a\nb"]))
        let all = lines.all.joined()
        #expect(all.split(separator: "\n").count == 2)
        #expect(all.hasSuffix("\n"))
        #expect(all.contains(#""text":"a\nb""#))
    }
}

@Suite(.timeLimit(.minutes(2))) struct EventBusTests {
    @Test func numbersEventsFromOneInDeliveryOrder() async {
        let sink = RecordingEventSink()
        let bus = EventBus(runID: "r", sinks: [sink])
        bus.publish(.runStarted)
        bus.publish(.stepStarted, step: "a")
        bus.publish(.stepCompleted, step: "a")
        bus.publish(.runCompleted)
        bus.close()
        await bus.delivered()
        #expect(sink.events.map(\.seq) == [1, 2, 3, 4])
        #expect(sink.types == [.runStarted, .stepStarted, .stepCompleted, .runCompleted])
        #expect(sink.events.allSatisfy { $0.runID == "r" })
    }

    @Test func aSlowSinkGetsMergedDeltasButAllTextAndEveryLifecycleEvent() async {
        let slow = SlowEventSink(delay: .milliseconds(2))
        let bus = EventBus(runID: "r", sinks: [slow], capacity: 8)
        var expected: [String: String] = [:]
        bus.publish(.runStarted)
        for step in ["a", "b"] { bus.publish(.stepStarted, step: step) }
        for index in 0..<400 {
            let step = index % 2 == 0 ? "a" : "b"
            bus.publish(.stepDelta, step: step, data: ["text": .string("\(index),")])
            expected[step, default: ""] += "\(index),"
        }
        for step in ["a", "b"] { bus.publish(.stepCompleted, step: step) }
        bus.publish(.runCompleted)
        bus.close()
        await bus.delivered()
        let events = slow.events
        #expect(bus.mergedDeltaCount > 0)
        #expect(events.count < 400)
        for step in ["a", "b"] {
            let text = events.filter { $0.type == .stepDelta && $0.step == step }.map(\.deltaText).joined()
            #expect(text == expected[step])
        }
        #expect(events.filter { $0.type != .stepDelta }.map(\.type) == [.runStarted, .stepStarted, .stepStarted, .stepCompleted, .stepCompleted, .runCompleted])
        #expect(events.map(\.seq) == Array(1...events.count))
        #expect(EventInvariants.violations(events) == [])
    }

    @Test func deltasAreNeverMergedAcrossARetryOfTheSameStep() async {
        let slow = SlowEventSink(delay: .milliseconds(5))
        let bus = EventBus(runID: "r", sinks: [slow], capacity: 1)
        bus.publish(.stepStarted, step: "s")
        bus.publish(.stepDelta, step: "s", data: ["text": "first "])
        bus.publish(.stepRetrying, step: "s")
        bus.publish(.stepDelta, step: "s", data: ["text": "second"])
        bus.publish(.stepCompleted, step: "s")
        bus.close()
        await bus.delivered()
        let types = slow.events.map(\.type)
        #expect(types == [.stepStarted, .stepDelta, .stepRetrying, .stepDelta, .stepCompleted])
        #expect(slow.events[3].deltaText == "second")
    }

    /// Delivery stops when the buffer is empty and starts again with the next event: events
    /// published in bursts with pauses between them still arrive all, in order, numbered.
    @Test func burstsWithPausesArriveInOrder() async throws {
        let sink = RecordingEventSink()
        let bus = EventBus(runID: "r", sinks: [sink])
        for burst in 0..<5 {
            for index in 0..<3 { bus.publish(.stepStarted, step: "s\(burst)_\(index)") }
            try await Task.sleep(for: .milliseconds(5))
        }
        bus.close()
        await bus.delivered()
        #expect(sink.events.map(\.seq) == Array(1...15))
        #expect(sink.events.map(\.step) == (0..<5).flatMap { burst in (0..<3).map { "s\(burst)_\($0)" } })
    }

    /// `delivered()` waits for `close()`, and for the sinks to have every event.
    @Test func deliveredWaitsForCloseAndTheSlowestSink() async throws {
        let slow = SlowEventSink(delay: .milliseconds(20))
        let bus = EventBus(runID: "r", sinks: [slow])
        let finished = Mutex(false)
        async let waiting: Void = {
            await bus.delivered()
            finished.withLock { $0 = true }
        }()
        bus.publish(.runStarted)
        bus.publish(.runCompleted)
        try await Task.sleep(for: .milliseconds(60))
        #expect(finished.withLock { $0 } == false)
        bus.close()
        await waiting
        #expect(slow.events.map(\.type) == [.runStarted, .runCompleted])
    }

    /// A bus without sinks keeps no events and is done as soon as it is closed.
    @Test func aBusWithoutSinksHoldsNothing() async {
        let bus = EventBus(runID: "r", sinks: [])
        for _ in 0..<100 { bus.publish(.stepDelta, step: "s", data: ["text": "x"]) }
        bus.close()
        await bus.delivered()
        #expect(bus.mergedDeltaCount == 0)
    }

    @Test func eventsAfterCloseAreIgnored() async {
        let sink = RecordingEventSink()
        let bus = EventBus(runID: "r", sinks: [sink])
        bus.publish(.runStarted)
        bus.close()
        bus.publish(.stepStarted, step: "late")
        await bus.delivered()
        #expect(sink.types == [.runStarted])
    }
}

/// Collects written lines across tasks.
final class LineCollector: Sendable {
    private let storage = Mutex<[String]>([])
    func append(_ line: String) { storage.withLock { $0.append(line) } }
    var all: [String] { storage.withLock { $0 } }
}
