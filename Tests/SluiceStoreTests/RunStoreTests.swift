import Foundation
import SluiceEngine
import SluiceJSON
import SluiceRunLog
import SluiceStore
import SluiceStorePostgres
import SluiceTesting
import Testing

/// Both stores (SQLite and PostgreSQL): runs, the event log's seq discipline, checkpoints, listing, cancel, prune.
@Suite struct RunStoreTests {
    @Test(arguments: StoreBackend.all) func eventsAreKeptInOrderAndTheEndEventRecordsTheOutcome(backend: StoreBackend) async throws {
        let temporary = try await TemporaryStore(backend)
        defer { temporary.remove() }
        let store = temporary.store
        try await store.createRun(StoreHarness.newRun("r1"))
        try await store.append(StoreHarness.events("r1", count: 3))
        try await store.append(StoreHarness.events("r1", from: 4, count: 2, end: .runCompleted))
        let events = try await store.events(runID: "r1", after: 0, limit: nil)
        #expect(events.map(\.seq) == [1, 2, 3, 4, 5])
        #expect(events[1].deltaText == "chunk 2")
        #expect(try await store.events(runID: "r1", after: 3, limit: nil).map(\.seq) == [4, 5])
        let run = try #require(try await store.run(id: "r1"))
        #expect(run.status == .completed)
        #expect(run.lastSeq == 5)
        #expect(run.result == ["ok": true])
        #expect(run.usage?["cost_usd"]?.doubleValue == 0.5)
        #expect(run.owner == nil)
    }

    @Test(arguments: StoreBackend.all, [(first: 4, why: "gap"), (first: 2, why: "repeat")])
    func aSeqThatDoesNotContinueTheLogIsRefusedAndNothingIsWritten(backend: StoreBackend, next: (first: Int, why: String)) async throws {
        let (first, why) = next
        let temporary = try await TemporaryStore(backend)
        defer { temporary.remove() }
        let store = temporary.store
        try await store.createRun(StoreHarness.newRun("r1"))
        try await store.append(StoreHarness.events("r1", count: 2))
        do {
            try await store.append(StoreHarness.events("r1", from: first, count: 2))
            Issue.record("a \(why) was accepted")
        } catch {
            #expect(error.code == .conflict)
            #expect(error.message.contains("expected 3"))
        }
        #expect(try await store.events(runID: "r1", after: 0, limit: nil).map(\.seq) == [1, 2])
    }

    @Test(arguments: StoreBackend.all) func eventsOfAnUnknownRunAreRefused(backend: StoreBackend) async throws {
        let temporary = try await TemporaryStore(backend)
        defer { temporary.remove() }
        do {
            try await temporary.store.append(StoreHarness.events("nobody", count: 1))
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .notFound)
        }
    }

    @Test(arguments: StoreBackend.all) func checkpointsAreWrittenWithTheirEvents(backend: StoreBackend) async throws {
        let temporary = try await TemporaryStore(backend)
        defer { temporary.remove() }
        let store = temporary.store
        try await store.createRun(StoreHarness.newRun("r1"))
        var completed = RunEvent(seq: 1, runID: "r1", time: Date(), type: .stepCompleted, step: "write", item: 2, data: ["output": "text"])
        completed.checkpoint = StepCheckpoint(key: "sections[2]/write", output: "text", lifted: ["draft": 1])
        var skipped = RunEvent(seq: 2, runID: "r1", time: Date(), type: .stepSkipped, step: "extra")
        skipped.checkpoint = StepCheckpoint(key: "extra", output: .null, skipped: true)
        try await store.append([completed, skipped])
        let checkpoints = try await store.checkpoints(runID: "r1")
        #expect(checkpoints["sections[2]/write"] == StepCheckpoint(key: "sections[2]/write", output: "text", lifted: ["draft": 1]))
        #expect(checkpoints["extra"]?.skipped == true)
    }

    /// A batch saving one key twice (a loop step's checkpoint rewritten) keeps the later one,
    /// as appending the events one by one would (PostgreSQL saves a batch's checkpoints in one upsert).
    @Test(arguments: StoreBackend.all) func aKeySavedTwiceInOneBatchKeepsTheLaterCheckpoint(backend: StoreBackend) async throws {
        let temporary = try await TemporaryStore(backend)
        defer { temporary.remove() }
        let store = temporary.store
        try await store.createRun(StoreHarness.newRun("r1"))
        let events = ["first", "second"].enumerated().map { index, text in
            var event = RunEvent(seq: index + 1, runID: "r1", time: Date(), type: .stepCompleted, step: "loop", data: ["output": .string(text)])
            event.checkpoint = StepCheckpoint(key: "loop", output: .string(text))
            return event
        }
        try await store.append(events)
        #expect(try await store.checkpoints(runID: "r1")["loop"]?.output == "second")
    }

    @Test(arguments: StoreBackend.all) func listingFiltersAndOrdersNewestFirst(backend: StoreBackend) async throws {
        let temporary = try await TemporaryStore(backend)
        defer { temporary.remove() }
        let store = temporary.store
        let base = Date(timeIntervalSince1970: 1_800_000_000)
        try await store.createRun(StoreHarness.newRun("a", plan: "news", user: "alice", createdAt: base))
        try await store.createRun(StoreHarness.newRun("b", plan: "extract", user: "bob", createdAt: base.addingTimeInterval(10)))
        try await store.createRun(StoreHarness.newRun("c", plan: "news", user: "alice", createdAt: base.addingTimeInterval(20)))
        try await store.append(StoreHarness.events("c", count: 1, end: .runFailed))
        #expect(try await store.runs(RunFilter()).map(\.id) == ["c", "b", "a"])
        #expect(try await store.runs(RunFilter(user: "alice")).map(\.id) == ["c", "a"])
        #expect(try await store.runs(RunFilter(plan: "extract")).map(\.id) == ["b"])
        #expect(try await store.runs(RunFilter(status: .failed)).map(\.id) == ["c"])
        #expect(try await store.runs(RunFilter(limit: 1)).map(\.id) == ["c"])
        #expect(try await store.run(matching: "b").id == "b")
    }

    @Test(arguments: StoreBackend.all) func aRunWhoseProcessIsGoneIsInterruptedAndCanBeClaimedOnce(backend: StoreBackend) async throws {
        let temporary = try await TemporaryStore(backend)
        defer { temporary.remove() }
        let store = temporary.store
        try await store.createRun(StoreHarness.newRun("mine"))
        // Our own live run cannot be claimed.
        await #expect(throws: StoreError.self) { try await store.claimForResume(id: "mine", expecting: nil) }
        // A run owned by a process that no longer exists reads as interrupted.
        let other = try await temporary.opening(owner: "999999999@\(ProcessInfo.processInfo.hostName)")
        try await other.createRun(StoreHarness.newRun("dead"))
        #expect(try await store.run(id: "dead")?.status == .interrupted)
        #expect(try await store.runs(RunFilter(status: .interrupted)).map(\.id) == ["dead"])
        let claimed = try await store.claimForResume(id: "dead", expecting: nil)
        #expect(claimed.status == .running)
        #expect(claimed.resumes == 1)
        await #expect(throws: StoreError.self) { try await store.claimForResume(id: "dead", expecting: nil) }
    }

    /// A resume claimed within the user's run limit: a failed run needs a free place among
    /// the user's active runs (refused with `limit`, nothing changed); an interrupted one
    /// counts already and is not counted twice; other users' runs do not count.
    @Test(arguments: StoreBackend.all) func aResumeIsClaimedWithinTheUsersRunLimit(backend: StoreBackend) async throws {
        let temporary = try await TemporaryStore(backend)
        defer { temporary.remove() }
        let store = temporary.store
        try await store.createRun(StoreHarness.newRun("failed", user: "alice"))
        try await store.append(StoreHarness.events("failed", count: 2, end: .runFailed))
        try await store.createRun(StoreHarness.newRun("live", user: "alice"))
        try await store.createRun(StoreHarness.newRun("bobs", user: "bob"))
        let other = try await temporary.opening(owner: "999999999@\(ProcessInfo.processInfo.hostName)")
        try await other.createRun(StoreHarness.newRun("dead", user: "alice"))
        (other as? PostgresRunStore)?.close()

        // alice: "live" and "dead" (interrupted) are active.
        do {
            _ = try await store.claimForResume(id: "failed", expecting: nil, runsPerUser: 2)
            Issue.record("a resume past the limit was claimed")
        } catch {
            #expect(error.code == .limit, "\(error)")
            #expect(error.message.contains("per-user limit"), "\(error)")
        }
        #expect(try await store.run(id: "failed")?.status == .failed)
        // The interrupted run counts already: claimed at the limit.
        #expect(try await store.claimForResume(id: "dead", expecting: nil, runsPerUser: 2).status == .running)
        // With a place free, the failed run is claimed.
        #expect(try await store.claimForResume(id: "failed", expecting: nil, runsPerUser: 3).status == .running)
    }

    /// SIGTERM on a PostgreSQL replica: its live runs, leases far from running out, read as
    /// interrupted as soon as it gives their leases back, and another process claims them.
    @Test(.enabled(if: PostgresCluster.available, "PostgreSQL is not installed (CI installs it)"))
    func releasedLeasesMakeLiveRunsInterruptedAtOnce() async throws {
        let temporary = try await TemporaryStore(.postgres)
        defer { temporary.remove() }
        let postgres = try #require(temporary.store as? PostgresRunStore)
        try await postgres.createRun(StoreHarness.newRun("handed"))
        try await postgres.append(StoreHarness.events("handed", count: 2))
        try await postgres.createRun(StoreHarness.newRun("done"))
        try await postgres.append(StoreHarness.events("done", count: 2, end: .runCompleted))
        #expect(try await postgres.run(id: "handed")?.status == .running)
        try await postgres.releaseLeases()
        #expect(try await postgres.run(id: "handed")?.status == .interrupted)
        #expect(try await postgres.run(id: "done")?.status == .completed)
        // Another live replica (this process under another name on another host) takes it over.
        let other = try await temporary.opening(owner: "\(ProcessInfo.processInfo.processIdentifier)@another-host")
        defer { (other as? PostgresRunStore)?.close() }
        let claimed = try await other.claimForResume(id: "handed", expecting: nil)
        #expect(claimed.status == .running)
        #expect(claimed.resumes == 1)
        // The releasing process no longer holds it: giving its leases back again leaves it be.
        try await postgres.releaseLeases()
        #expect(try await postgres.run(id: "handed")?.status == .running)
    }

    @Test(arguments: StoreBackend.all) func cancellingALiveRunSetsTheFlagAndAStoppedOneEndsItsLog(backend: StoreBackend) async throws {
        let temporary = try await TemporaryStore(backend)
        defer { temporary.remove() }
        let store = temporary.store
        try await store.createRun(StoreHarness.newRun("live"))
        #expect(try await store.requestCancel(id: "live").cancelRequested)
        #expect(try await store.isCancelRequested(id: "live"))
        let other = try await temporary.opening(owner: "999999999@\(ProcessInfo.processInfo.hostName)")
        try await other.createRun(StoreHarness.newRun("dead"))
        try await store.append(StoreHarness.events("dead", count: 2))
        let cancelled = try await store.requestCancel(id: "dead")
        #expect(cancelled.status == .cancelled)
        let events = try await store.events(runID: "dead", after: 0, limit: nil)
        #expect(events.map(\.seq) == [1, 2, 3])
        #expect(events.last?.type == .runCancelled)
    }

    @Test(arguments: StoreBackend.all) func pruneDeletesOnlyOldFinishedRunsWithTheirEvents(backend: StoreBackend) async throws {
        let temporary = try await TemporaryStore(backend)
        defer { temporary.remove() }
        let store = temporary.store
        try await store.createRun(StoreHarness.newRun("done"))
        try await store.append(StoreHarness.events("done", count: 3, end: .runCompleted))
        try await store.createRun(StoreHarness.newRun("running"))
        #expect(try await store.deleteRuns(finishedBefore: Date().addingTimeInterval(-3600)) == 0)
        #expect(try await store.deleteRuns(finishedBefore: Date().addingTimeInterval(60)) == 1)
        #expect(try await store.run(id: "done") == nil)
        #expect(try await store.events(runID: "done", after: 0, limit: nil).isEmpty)
        #expect(try await store.run(id: "running") != nil)
    }

    @Test(arguments: StoreBackend.all) func idPrefixesMustBeUnique(backend: StoreBackend) async throws {
        let temporary = try await TemporaryStore(backend)
        defer { temporary.remove() }
        let store = temporary.store
        try await store.createRun(StoreHarness.newRun("run_abc1"))
        try await store.createRun(StoreHarness.newRun("run_abc2"))
        #expect(try await store.run(matching: "run_abc1").id == "run_abc1")
        do {
            _ = try await store.run(matching: "run_abc")
            Issue.record("expected an ambiguity error")
        } catch {
            #expect(error.code == .conflict)
        }
        do {
            _ = try await store.run(matching: "run_x")
            Issue.record("expected not found")
        } catch {
            #expect(error.code == .notFound)
        }
    }
}
