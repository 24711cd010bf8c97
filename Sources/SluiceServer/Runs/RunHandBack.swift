import SluiceEngine
import SluiceRunLog
public import SluiceStore
import Synchronization

/// SIGTERM on a store several replicas share: the replica stops its runs without ending them
/// (no `run.cancelled` is recorded, their status stays `running`), then gives up their leases
/// so they read as `interrupted` at once and a running replica takes them over from their
/// checkpoints. A SQLite server has no other replica, so it keeps the grace-then-cancel rule.
///
/// ```swift
/// executor.handBack = RunHandBack { try await postgres.releaseLeases() }
/// ```
public final class RunHandBack: Sendable {
    private let handingBack = Atomic<Bool>(false)
    private let releaseLeases: @Sendable () async throws(StoreError) -> Void

    /// - Parameter releaseLeases: gives up the leases of every run this process still holds.
    public init(releaseLeases: @escaping @Sendable () async throws(StoreError) -> Void) {
        self.releaseLeases = releaseLeases
    }

    /// Whether the runs are being handed back: their events are no longer recorded.
    public var isHandingBack: Bool { handingBack.load(ordering: .acquiring) }

    /// From now on no event of any run reaches the store, so the cancellation that stops the
    /// runs leaves their logs as they were (a gapless prefix the next replica continues).
    public func begin() {
        handingBack.store(true, ordering: .releasing)
    }

    /// Gives the leases back; call once every run has stopped (nothing of theirs is still
    /// being written, so the replica taking over continues each log with no clash).
    public func release() async throws(StoreError) {
        try await releaseLeases()
    }

    /// `sink` until ``begin()``; after it, nothing.
    func gate(_ sink: any EventBatchSink) -> any EventBatchSink {
        HandBackGate(handBack: self, downstream: sink)
    }
}

/// Drops events once the runs are being handed back.
private struct HandBackGate: EventBatchSink {
    let handBack: RunHandBack
    let downstream: any EventBatchSink

    func receive(batch: [RunEvent]) async {
        guard !handBack.isHandingBack else { return }
        await downstream.receive(batch: batch)
    }
}
