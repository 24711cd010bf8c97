public import Foundation
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
    /// - Throws: ``StoreError`` `notFound`, or `conflict` when the run completed or still runs
    ///   (or is not in the `expecting` status), `limit` when the user's `runsPerUser` refuses
    ///   it (see ``RunStore/claimForResume(id:expecting:runsPerUser:)``).
    public func prepareResume(id: String, expecting: StoredRunStatus? = nil, runsPerUser: Int? = nil, now: Date = Date()) async throws(StoreError) -> PreparedResume {
        let run = try await claimForResume(id: id, expecting: expecting, runsPerUser: runsPerUser)
        let replay = RunLogReplay(runID: id, log: try await events(runID: id, after: 0, limit: nil), simulatedProvider: SimulatedModel.providerName)
        let endings = replay.interruptions(now: now)
        if !endings.isEmpty { try await append(endings) }
        let checkpoints = try await checkpoints(runID: id)
        let calls = try await providerCalls(runID: id)
        return PreparedResume(
            run: run,
            state: ResumeState(runID: id, nextSeq: replay.lastSeq + endings.count + 1, checkpoints: checkpoints, usage: replay.usage),
            ledger: RunCallLedger(store: self, runID: id, prior: calls),
            interruptedSteps: endings.count
        )
    }
}
