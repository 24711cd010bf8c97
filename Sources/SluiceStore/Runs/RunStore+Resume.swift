public import Foundation
import SluiceJSON
import SluiceProviders
public import SluiceRunLog

/// Everything a resumed run needs: the run as claimed, the engine's ``ResumeState``, and the
/// ledger that answers the provider calls already made.
public struct PreparedResume: Sendable {
    public var run: StoredRun
    public var state: ResumeState
    public var ledger: RunCallLedger
    /// Steps that had started but not ended when the run stopped (each now ends with a
    /// `step.failed` of type `interrupted` in the log, and runs again).
    public var interruptedSteps: Int
}

extension RunStore {
    /// Claims a stopped run and gathers its checkpoints, saved calls, usage and next `seq`.
    ///
    /// Steps the log shows as started but never ended get a `step.failed` (type `interrupted`)
    /// first, so every started step in the log ends, and the log stays one gapless sequence.
    ///
    /// - Throws: ``StoreError`` `notFound`, or `conflict` when the run completed or still runs.
    public func prepareResume(id: String, now: Date = Date()) async throws(StoreError) -> PreparedResume {
        let run = try await claimForResume(id: id)
        let log = try await events(runID: id, after: 0, limit: nil)
        var usage = UsageTotals()
        var open: [String: [RunEvent]] = [:]
        for event in log {
            switch event.type {
            case .modelUsage:
                usage.inputTokens += Int(event.data["input_tokens"]?.integerValue ?? 0)
                usage.outputTokens += Int(event.data["output_tokens"]?.integerValue ?? 0)
                usage.costUSD += event.data["cost_usd"]?.doubleValue ?? 0
                usage.modelCalls += 1
                if event.data["cost_usd"] == nil || event.data["cost_usd"] == .null { usage.unpricedCalls += 1 }
                if event.data["provider"]?.stringValue == SimulatedModel.providerName { usage.simulated = true }
            case .stepStarted:
                open[Self.place(event), default: []].append(event)
            case .stepCompleted, .stepSkipped, .stepFailed:
                open[Self.place(event)]?.removeLast()
            default:
                break
            }
        }
        let dangling = open.values.flatMap { $0 }.sorted { $0.seq < $1.seq }
        var seq = (log.last?.seq ?? 0)
        let endings = dangling.reversed().map { started -> RunEvent in
            seq += 1
            return RunEvent(
                seq: seq, runID: id, time: now, type: .stepFailed, step: started.step, item: started.item, iteration: started.iteration,
                data: [
                    "error": ["type": "interrupted", "message": "the run stopped before this step ended; it runs again on resume"],
                    "duration_ms": .integer(Int64(max(0, now.timeIntervalSince(started.time)) * 1000)),
                ])
        }
        if !endings.isEmpty { try await append(endings) }
        let checkpoints = try await checkpoints(runID: id)
        let calls = try await providerCalls(runID: id)
        return PreparedResume(
            run: run,
            state: ResumeState(runID: id, nextSeq: seq + 1, checkpoints: checkpoints, usage: usage),
            ledger: RunCallLedger(store: self, runID: id, prior: calls),
            interruptedSteps: endings.count
        )
    }

    private static func place(_ event: RunEvent) -> String {
        "\(event.step ?? "")|\(event.item.map(String.init) ?? "")|\(event.iteration.map(String.init) ?? "")"
    }
}
