import Foundation
import SluiceEngine
import SluiceJSON
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

        let claimedFirst = try await first.claimQueuedRuns(limit: 2, plans: [Self.p])
        #expect(claimedFirst.map(\.id) == ["c", "a"])
        #expect(claimedFirst.allSatisfy { $0.owner == first.owner && $0.status == .running })
        let claimedSecond = try await second.claimQueuedRuns(limit: 5, plans: [Self.p])
        #expect(claimedSecond.map(\.id) == ["b"])
        #expect(try await second.claimQueuedRuns(limit: 5, plans: [Self.p]).isEmpty)
        #expect(try await second.isQueued(id: "other-plan"))
        #expect(try await second.claimQueuedRuns(limit: 5, plans: [Self.notServedHere]).map(\.id) == ["other-plan"])
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
        #expect(try await store.claimQueuedRuns(limit: 5, plans: [Self.p]).isEmpty)
    }

    static func claimAll(_ store: PostgresRunStore) async throws -> [String] {
        var claimed: [String] = []
        while true {
            let batch = try await store.claimQueuedRuns(limit: 3, plans: [Self.p])
            if batch.isEmpty { return claimed }
            claimed += batch.map(\.id)
        }
    }

    /// Plan `p` as `StoreHarness.newRun` records it (the path may differ between replicas).
    static let p = PlanIdentity(name: "p", path: "another/home/p.json", contentHash: "0")
    static let notServedHere = PlanIdentity(name: "not_served_here", path: "inline.json", contentHash: "0")

    /// During a rolling deploy: a replica serving another version of plan `p` (another
    /// content hash) leaves its runs for one serving the version they were started with.
    @Test func aRunIsClaimedOnlyWithTheSamePlanContent() async throws {
        let temporary = try await TemporaryStore(.postgres)
        defer { temporary.remove() }
        let store = try #require(temporary.store as? PostgresRunStore)
        try await store.enqueueRun(StoreHarness.newRun("old-version"))
        let newer = PlanIdentity(name: "p", path: "inline.json", contentHash: "1")
        #expect(try await store.claimQueuedRuns(limit: 5, plans: [newer]).isEmpty)
        #expect(try await store.isQueued(id: "old-version"))
        #expect(try await store.claimQueuedRuns(limit: 5, plans: [newer, Self.p]).map(\.id) == ["old-version"])
    }

    /// A run admitted as the receiving process's own is claimed as it is recorded: never queued.
    @Test func anOwnedRunIsNeverQueued() async throws {
        let temporary = try await TemporaryStore(.postgres)
        defer { temporary.remove() }
        let store = try #require(temporary.store as? PostgresRunStore)
        #expect(try await store.admitRun(StoreHarness.newRun("mine"), as: .owned, limits: RunAdmissionLimits(queuedRuns: 0)) == .queueFull(queued: 0))
        #expect(try await store.admitRun(StoreHarness.newRun("mine"), as: .owned, limits: RunAdmissionLimits()) == .admitted)
        let mine = try #require(try await store.run(id: "mine"))
        #expect(mine.owner == store.owner && mine.status == .running)
        #expect(try await store.isQueued(id: "mine") == false)
        #expect(try await store.claimQueuedRuns(limit: 5, plans: [Self.p]).isEmpty)
    }

    /// The limits are counted in the store: a user's queued, running and waiting runs, and
    /// the runs queued by anyone; what a limit refuses is not recorded.
    @Test func admissionCountsTheStore() async throws {
        let temporary = try await TemporaryStore(.postgres)
        defer { temporary.remove() }
        let store = try #require(temporary.store as? PostgresRunStore)
        // A live replica claims plan `p`'s runs (as the receiving `sluice serve` does).
        try await store.serve([Self.p], takingOver: false)
        let limits = RunAdmissionLimits(runsPerUser: 2, queuedRuns: 3)
        #expect(try await store.admitRun(StoreHarness.newRun("a1", user: "alice"), as: .queued, limits: limits) == .admitted)
        #expect(try await store.admitRun(StoreHarness.newRun("a2", user: "alice"), as: .owned, limits: limits) == .admitted)
        #expect(try await store.admitRun(StoreHarness.newRun("a3", user: "alice"), as: .queued, limits: limits) == .userLimit(active: 2))
        #expect(try await store.run(id: "a3") == nil)
        #expect(try await store.admitRun(StoreHarness.newRun("b1", user: "bob"), as: .queued, limits: limits) == .admitted)
        #expect(try await store.admitRun(StoreHarness.newRun("c1", user: "carol"), as: .queued, limits: limits) == .admitted)
        #expect(try await store.admitRun(StoreHarness.newRun("d1", user: "dave"), as: .queued, limits: limits) == .queueFull(queued: 3))
        // Without the queue limit (the receiver has a free place) dave's run is admitted.
        #expect(try await store.admitRun(StoreHarness.newRun("d1", user: "dave"), as: .queued, limits: RunAdmissionLimits(runsPerUser: 2)) == .admitted)
        // An ended run no longer counts.
        _ = try await store.requestCancel(id: "a1")
        #expect(try await store.admitRun(StoreHarness.newRun("a3", user: "alice"), as: .owned, limits: RunAdmissionLimits(runsPerUser: 2)) == .admitted)
    }

    /// Many admissions of one user at once, from two processes: exactly the limit gets in.
    /// A resume's admission counts the user's active runs in the store: a failed run needs a
    /// place below the limit, a waiting one counts already.
    @Test func aResumeIsAdmittedByTheStoresCount() async throws {
        let temporary = try await TemporaryStore(.postgres)
        defer { temporary.remove() }
        let store = try #require(temporary.store as? PostgresRunStore)
        try await store.createRun(StoreHarness.newRun("failed", user: "alice"))
        try await store.append(StoreHarness.events("failed", count: 2, end: .runFailed))
        try await store.createRun(StoreHarness.newRun("asks", user: "alice"))
        try await store.append(StoreHarness.events("asks", count: 2))
        try await store.releaseWaiting(id: "asks", question: PendingInput(seq: 2, step: "s", message: "Go on?", details: .null))
        try await store.serve([Self.p], takingOver: false)
        try await store.enqueueRun(StoreHarness.newRun("queued", user: "alice"))

        #expect(try await store.resumeAdmission(id: "failed", user: "alice", runsPerUser: 2) == .userLimit(active: 2))
        #expect(try await store.resumeAdmission(id: "failed", user: "alice", runsPerUser: 3) == .admitted)
        #expect(try await store.resumeAdmission(id: "asks", user: "alice", runsPerUser: 2) == .admitted)
        #expect(try await store.resumeAdmission(id: "asks", user: "alice", runsPerUser: 1) == .admitted)
    }

    /// An interrupted run counts against its user's limit only while a live replica serves its
    /// plan version (and so could take it over): what the replicas serve decides, and a
    /// replica that stopped serves nothing once its lease ran out. (A limit of 0 makes the
    /// admission say the count without recording anything.)
    @Test func anInterruptedRunCountsOnlyWhileSomeReplicaServesItsPlan() async throws {
        let temporary = try await TemporaryStore(.postgres)
        defer { temporary.remove() }
        let store = try #require(temporary.store as? PostgresRunStore)
        let gone = try #require(try await temporary.opening(owner: "gone@another-host") as? PostgresRunStore)
        try await gone.createRun(StoreHarness.newRun("served", user: "alice"))
        try await gone.createRun(StoreHarness.newRun("retired", plan: "old_plan", user: "alice"))
        try await gone.releaseLeases()
        gone.close()
        let old = PlanIdentity(name: "old_plan", path: "elsewhere.json", contentHash: "0")
        func count() async throws -> RunAdmission {
            try await store.admitRun(StoreHarness.newRun("probe", user: "alice"), as: .queued, limits: RunAdmissionLimits(runsPerUser: 0))
        }

        #expect(try await count() == .userLimit(active: 0))
        try await store.serve([Self.p])
        #expect(try await count() == .userLimit(active: 1))
        try await store.serve([Self.p, old])
        #expect(try await count() == .userLimit(active: 2))
        try await store.serve([Self.p, Self.notServedHere])
        #expect(try await count() == .userLimit(active: 1))
        // A resume of the run nobody could take over needs a place like a failed run's; the
        // other counts already.
        #expect(try await store.resumeAdmission(id: "retired", user: "alice", runsPerUser: 1) == .userLimit(active: 1))
        #expect(try await store.resumeAdmission(id: "served", user: "alice", runsPerUser: 1) == .admitted)

        // A replica with a one-second lease serving the old version, then stopped.
        let brief = try await PostgresRunStore.open(url: temporary.location, owner: "brief@another-host", leaseTimeout: 1)
        try await brief.serve([old])
        #expect(try await count() == .userLimit(active: 2))
        brief.close()
        try await Task.sleep(for: .milliseconds(1500))
        #expect(try await count() == .userLimit(active: 1))
    }

    /// A queued run counts against its user's limit and the queued-run limit only while a
    /// live replica claims its plan version (any `sluice serve` on the queue, with or without
    /// `--no-resume`): one queued by a replica that then stopped, of a version nobody serves
    /// any more, holds no place. A replica that only claims (`--no-resume`, `--stdio`) makes
    /// queued runs of its versions count, not interrupted ones: it would not take them over.
    @Test func aQueuedRunCountsOnlyWhileSomeReplicaClaimsItsPlan() async throws {
        let temporary = try await TemporaryStore(.postgres)
        defer { temporary.remove() }
        let store = try #require(temporary.store as? PostgresRunStore)
        let gone = try #require(try await temporary.opening(owner: "gone@another-host") as? PostgresRunStore)
        try await gone.createRun(StoreHarness.newRun("interrupted", user: "alice"))
        try await gone.releaseLeases()
        gone.close()
        try await store.enqueueRun(StoreHarness.newRun("queued", user: "alice"))
        func userCount() async throws -> RunAdmission {
            try await store.admitRun(StoreHarness.newRun("probe", user: "alice"), as: .queued, limits: RunAdmissionLimits(runsPerUser: 0))
        }
        func queueCount() async throws -> RunAdmission {
            try await store.admitRun(StoreHarness.newRun("probe", user: "bob"), as: .queued, limits: RunAdmissionLimits(queuedRuns: 0))
        }

        #expect(try await userCount() == .userLimit(active: 0))
        #expect(try await queueCount() == .queueFull(queued: 0))
        #expect(try await store.resumeAdmission(id: "queued", user: "alice", runsPerUser: 0) == .userLimit(active: 0))
        // Claiming only: the queued run counts, the interrupted one does not.
        try await store.serve([Self.p], takingOver: false)
        #expect(try await userCount() == .userLimit(active: 1))
        #expect(try await queueCount() == .queueFull(queued: 1))
        // Taking over as well (the same process): both count.
        try await store.serve([Self.p], takingOver: true)
        #expect(try await userCount() == .userLimit(active: 2))
        // Claiming another version only: the takeover still serves `p`, so the queued run counts.
        try await store.serve([Self.notServedHere], takingOver: false)
        #expect(try await userCount() == .userLimit(active: 2))
        #expect(try await queueCount() == .queueFull(queued: 1))
        try await store.releaseLeases()
        #expect(try await userCount() == .userLimit(active: 0))
        #expect(try await queueCount() == .queueFull(queued: 0))

        // A replica with a one-second lease claiming `p`, then stopped: its record runs out.
        let brief = try await PostgresRunStore.open(url: temporary.location, owner: "brief@another-host", leaseTimeout: 1)
        try await brief.serve([Self.p], takingOver: false)
        #expect(try await queueCount() == .queueFull(queued: 1))
        brief.close()
        try await Task.sleep(for: .milliseconds(1500))
        #expect(try await queueCount() == .queueFull(queued: 0))
        // The run is still queued: a replica serving its version claims it.
        #expect(try await store.isQueued(id: "queued"))
        #expect(try await store.claimQueuedRuns(limit: 5, plans: [Self.p]).map(\.id) == ["queued"])
    }

    /// A queued run no live replica could claim for the wait in a row ends with `run.failed`
    /// (`plan_not_served`), so its follower gets an end; the wait starts when a sweep first
    /// finds it without a claimant and starts again once one serves its version; a run some
    /// replica could claim is never touched.
    @Test func aQueuedRunNobodyServesFailsAfterTheWait() async throws {
        let temporary = try await TemporaryStore(.postgres)
        defer { temporary.remove() }
        let store = try #require(temporary.store as? PostgresRunStore)
        try await store.serve([Self.p], takingOver: false)
        try await store.enqueueRun(StoreHarness.newRun("claimable"))
        try await store.enqueueRun(StoreHarness.newRun("orphan", plan: "not_served_here"))
        try await store.enqueueRun(StoreHarness.newRun("served-again", plan: "old_plan"))
        let old = PlanIdentity(name: "old_plan", path: "elsewhere.json", contentHash: "0")

        // The first sweep starts the wait; nothing ends yet.
        #expect(try await store.failUnservedQueuedRuns(after: 0.5) == [])
        try await Task.sleep(for: .milliseconds(700))
        // A replica serving `old_plan` now: its run's wait starts again.
        try await store.serve([Self.p, old], takingOver: false)
        #expect(try await store.failUnservedQueuedRuns(after: 0.5) == ["orphan"])
        let orphan = try #require(try await store.run(id: "orphan"))
        #expect(orphan.status == .failed)
        #expect(orphan.error?["type"] == "plan_not_served")
        #expect(orphan.error?["message"]?.stringValue?.contains("not_served_here") == true)
        #expect(try await store.events(runID: "orphan", after: 0, limit: nil).map(\.type) == [.runFailed])
        #expect(try await store.isQueued(id: "orphan") == false)
        #expect(try await store.claimQueuedRuns(limit: 5, plans: [Self.notServedHere]).isEmpty)
        try await store.serve([Self.p], takingOver: false)
        try await Task.sleep(for: .milliseconds(700))
        // Its wait started again at the last sweep: not over yet.
        #expect(try await store.failUnservedQueuedRuns(after: 0.5) == [])
        #expect(try await store.isQueued(id: "served-again"))
        #expect(try await store.isQueued(id: "claimable"))
        #expect(try await store.claimQueuedRuns(limit: 5, plans: [Self.p]).map(\.id) == ["claimable"])
    }

    @Test func concurrentAdmissionsNeverPassTheUserLimit() async throws {
        let temporary = try await TemporaryStore(.postgres)
        defer { temporary.remove() }
        let first = try #require(temporary.store as? PostgresRunStore)
        let second = try #require(try await temporary.opening(owner: "\(ProcessInfo.processInfo.processIdentifier)@another-host") as? PostgresRunStore)
        defer { second.close() }
        let limits = RunAdmissionLimits(runsPerUser: 5)
        let admitted = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<20 {
                let store = index.isMultiple(of: 2) ? first : second
                group.addTask {
                    try await store.admitRun(StoreHarness.newRun("r\(index)", user: "alice"), as: .owned, limits: limits) == .admitted
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(admitted == 5)
        #expect(try await first.runs(RunFilter(user: "alice", limit: 100)).count == 5)
    }
}
