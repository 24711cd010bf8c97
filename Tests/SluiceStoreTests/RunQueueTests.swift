import Foundation
import SluiceEngine
import SluiceRunLog
import SluiceStore
import SluiceStorePostgres
import SluiceTesting
import Testing

/// The PostgreSQL store's run queue: queued runs read as running (never interrupted), are
/// claimed oldest first, each by one process, only for plans the claimant serves; a queued
/// run cancelled before anyone took it ends at once.
@Suite(.enabled(if: PostgresCluster.available, "PostgreSQL is not installed (CI installs it)"))
struct RunQueueTests {
    @Test func queuedRunsAreClaimedOldestFirstEachByOneProcess() async throws {
        let temporary = try await TemporaryStore(.postgres)
        defer { temporary.remove() }
        let first = try #require(temporary.store as? PostgresRunStore)
        let otherStore = try await temporary.opening(owner: "\(ProcessInfo.processInfo.processIdentifier)@another-host")
        let second = try #require(otherStore as? PostgresRunStore)
        defer { second.close() }
        let start = Date()
        for (index, id) in ["c", "a", "b"].enumerated() {
            try await first.enqueueRun(StoreHarness.newRun(id, createdAt: start.addingTimeInterval(Double(index))))
        }
        try await first.enqueueRun(StoreHarness.newRun("other-plan", plan: "not_served_here", createdAt: start))
        let queued = try #require(try await first.run(id: "a"))
        #expect(queued.status == .running)
        #expect(queued.owner == nil)
        #expect(try await first.runs(RunFilter(status: .interrupted)).isEmpty)

        let claimedFirst = try await first.claimQueuedRuns(limit: 2, plans: ["p"])
        #expect(claimedFirst.map(\.id) == ["c", "a"])
        #expect(claimedFirst.allSatisfy { $0.owner == first.owner && $0.status == .running })
        let claimedSecond = try await second.claimQueuedRuns(limit: 5, plans: ["p"])
        #expect(claimedSecond.map(\.id) == ["b"])
        #expect(try await second.claimQueuedRuns(limit: 5, plans: ["p"]).isEmpty)
        #expect(try await second.isQueued(id: "other-plan"))
        #expect(try await second.claimQueuedRuns(limit: 5, plans: ["not_served_here"]).map(\.id) == ["other-plan"])
        // Claimed runs are leased like created ones: giving the leases back makes them interrupted.
        try await first.releaseLeases()
        #expect(try await first.run(id: "c")?.status == .interrupted)
        #expect(try await first.run(id: "b")?.status == .running)
    }

    /// Two processes claiming at once get different runs and together all of them.
    @Test func concurrentClaimsNeverShareARun() async throws {
        let temporary = try await TemporaryStore(.postgres)
        defer { temporary.remove() }
        let first = try #require(temporary.store as? PostgresRunStore)
        let otherStore = try await temporary.opening(owner: "\(ProcessInfo.processInfo.processIdentifier)@another-host")
        let second = try #require(otherStore as? PostgresRunStore)
        defer { second.close() }
        let ids = (1...40).map { "q\($0)" }
        for id in ids { try await first.enqueueRun(StoreHarness.newRun(id)) }
        async let a = Self.claimAll(first)
        async let b = Self.claimAll(second)
        let (byFirst, bySecond) = try await (a, b)
        #expect(Set(byFirst).isDisjoint(with: Set(bySecond)))
        #expect(Set(byFirst + bySecond) == Set(ids))
        #expect(byFirst.count + bySecond.count == ids.count)
    }

    @Test func aQueuedRunCancelledBeforeItIsClaimedEndsAtOnce() async throws {
        let temporary = try await TemporaryStore(.postgres)
        defer { temporary.remove() }
        let store = try #require(temporary.store as? PostgresRunStore)
        try await store.enqueueRun(StoreHarness.newRun("waiting"))
        let cancelled = try await store.requestCancel(id: "waiting")
        #expect(cancelled.status == .cancelled)
        #expect(try await store.events(runID: "waiting", after: 0, limit: nil).map(\.type) == [.runCancelled])
        #expect(try await store.isQueued(id: "waiting") == false)
        #expect(try await store.claimQueuedRuns(limit: 5, plans: ["p"]).isEmpty)
    }

    static func claimAll(_ store: PostgresRunStore) async throws -> [String] {
        var claimed: [String] = []
        while true {
            let batch = try await store.claimQueuedRuns(limit: 3, plans: ["p"])
            if batch.isEmpty { return claimed }
            claimed += batch.map(\.id)
        }
    }
}
