import Foundation
import SluiceRunLog
import SluiceStore
@testable import SluiceStorePostgres
import SluiceTesting
import Testing

/// The PostgreSQL writer's rounds overlap (`PostgresEventWriter`, two connections): a round
/// that waits (here for a row lock another session holds) does not hold back the appends of
/// other runs, and an append of a run whose earlier batch is in that round waits for it, so
/// the run's log keeps its order.
@Suite(.enabled(if: PostgresCluster.available, "PostgreSQL is not installed (CI installs it)"))
struct PostgresOverlappingRoundsTests {
    @Test func aRoundThatWaitsHoldsBackOnlyItsOwnRuns() async throws {
        let temporary = try await TemporaryStore(.postgres)
        defer { temporary.remove() }
        let store = try #require(temporary.store as? PostgresRunStore)
        let cluster = try #require(try PostgresCluster.shared())
        let database = try #require(temporary.location.split(separator: "/").last.map(String.init))
        func psql(_ sql: String) async throws -> String {
            try await PostgresCluster.offThread { try cluster.psql(sql, database: database) }.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        for id in ["a_held", "b_free"] { try await store.createRun(StoreHarness.newRun(id)) }
        try await store.append(StoreHarness.events("a_held", count: 1))
        _ = try await psql("CREATE TABLE release_lock (done BOOLEAN)")

        // Another session locks run `a_held`'s row until the test inserts into release_lock. (The
        // store's lease heartbeat locks its running runs in id order: it may wait for `a_held`
        // too, but then holds no lock of `b_free`, whose id sorts after.)
        let holder = Task {
            try await psql("""
                SELECT id FROM runs WHERE id = 'a_held' FOR UPDATE;
                DO $$ BEGIN WHILE NOT EXISTS (SELECT 1 FROM release_lock) LOOP PERFORM pg_sleep(0.02); END LOOP; END $$;
                """)
        }
        defer { holder.cancel() }
        let locked = try await waitFor("the holder to lock the run") {
            try await psql("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND query LIKE '%release_lock%'") == "1"
        }
        #expect(locked)

        // Round 1 takes `a_held`'s batch and waits for the row lock.
        let second = Task { () async throws -> Void in try await store.append(StoreHarness.events("a_held", from: 2, count: 1)) }
        let blocked = try await waitFor("the writer's round to wait for the lock") {
            try await psql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%WITH locked AS%' AND datname = current_database()") == "1"
        }
        #expect(blocked)
        // `a_held`'s next batch comes while its earlier one is in that round: it must wait for it.
        let third = Task { () async throws -> Void in try await store.append(StoreHarness.events("a_held", from: 3, count: 2)) }
        let queued = try await waitFor("the third append to be queued") { store.writer.waitingAppends == 1 }
        #expect(queued)

        // Another run's append is written by the second connection meanwhile.
        let free = Task { () async throws -> Void in try await store.append(StoreHarness.events("b_free", count: 3)) }
        let written = try await waitFor("run b_free's append to be written while run a_held waits") {
            try await psql("SELECT last_seq FROM runs WHERE id = 'b_free'") == "3"
        }
        #expect(written, "an append of another run waited for the blocked round")
        #expect(try await psql("SELECT last_seq FROM runs WHERE id = 'a_held'") == "1")

        _ = try await psql("INSERT INTO release_lock VALUES (true)")
        _ = try await holder.value
        try await second.value
        try await third.value
        try await free.value
        #expect(try await store.events(runID: "a_held", after: 0, limit: nil).map(\.seq) == [1, 2, 3, 4])
        #expect(try await store.events(runID: "b_free", after: 0, limit: nil).map(\.seq) == [1, 2, 3])
        #expect(try await store.run(id: "a_held")?.lastSeq == 4)
    }

    /// Polls `condition` every 20 ms for up to 60 s (a bound against hanging, not a timing
    /// check); false when it never held.
    private func waitFor(_ what: String, _ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<3000 {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("timed out waiting for \(what)")
        return false
    }
}
