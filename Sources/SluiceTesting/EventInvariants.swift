import SluiceEngine
public import SluiceRunLog

/// The ordering rules every run's events must follow.
public enum EventInvariants {
    /// What is wrong with `events` (empty when nothing is): `seq` must increase strictly; each
    /// step execution (step, item, iteration) starts before its deltas, usage, gate and retry
    /// events and ends once after them; every started step ends; a run end comes last.
    ///
    /// ```swift
    /// #expect(EventInvariants.violations(sink.events) == [])
    /// ```
    public static func violations(_ events: [RunEvent]) -> [String] {
        struct Key: Hashable {
            var step: String
            var item: Int?
            var iteration: Int?
        }
        var problems: [String] = []
        var lastSeq = 0
        var open: Set<Key> = []
        for (index, event) in events.enumerated() {
            if event.seq <= lastSeq { problems.append("seq \(event.seq) after \(lastSeq)") }
            lastSeq = event.seq
            if event.type.endsRun, index != events.count - 1 {
                problems.append("\(event.type) (seq \(event.seq)) is not the last event")
            }
            guard let step = event.step else { continue }
            let key = Key(step: step, item: event.item, iteration: event.iteration)
            let at = "\(step)\(event.item.map { "[\($0)]" } ?? "")\(event.iteration.map { "#\($0)" } ?? "") (seq \(event.seq))"
            switch event.type {
            case .stepStarted:
                if !open.insert(key).inserted { problems.append("\(at) started twice") }
            case .stepDelta, .stepRetrying, .gateEvaluated, .modelUsage, .inputRequested:
                if !open.contains(key) { problems.append("\(event.type) for \(at) outside its start and end") }
            case .stepCompleted, .stepFailed:
                if open.remove(key) == nil { problems.append("\(event.type) for \(at), which had not started") }
            case .stepSkipped:
                // A step skipped by `when` ends without having started.
                open.remove(key)
            default:
                break
            }
        }
        if !open.isEmpty { problems.append("steps that never ended: \(open.map(\.step).sorted())") }
        return problems
    }
}
