import Foundation
import SluiceRunLog
import SluiceStore
import SluiceStorePostgres
import SluiceTesting
import Testing

/// The PostgreSQL store's group commit (`PostgresEventWriter`): appends of many runs at once
/// share transactions, yet each run's log continues with no gap and no repeat, each append is
/// answered for itself (a refused or failing run fails alone), every run of a round wakes its
/// followers, and closing the store answers every append already made. Reads made together
/// share queries (`PostgresEventReader`) and each still gets its own run's events.
@Suite(.enabled(if: PostgresCluster.available, "PostgreSQL is not installed (CI installs it)"))
struct PostgresGroupCommitTests {
    /// 40 runs on two stores (two replicas' writers on one database), each appending 15 batches
    /// of 1–9 events one after the other, all at once: every log is 1…N in order, each event once.
    @Test func manyRunsAppendingAtOnceKeepTheirOrderWithNoGapOrRepeat() async throws {
        let temporary = try await TemporaryStore(.postgres)
        defer { temporary.remove() }
        let other = try await temporary.opening(owner: "\(ProcessInfo.processInfo.processIdentifier)@another-host")
        defer { (other as? PostgresRunStore)?.close() }
        let stores: [any RunStore] = [temporary.store, other]
        let runIDs = (0..<40).map { "run_\($0)" }
        for id in runIDs { try await temporary.store.createRun(StoreHarness.newRun(id)) }
        let expected = try await withThrowingTaskGroup(of: (String, Int).self) { group in
            for (index, id) in runIDs.enumerated() {
                group.addTask {
                    let store = stores[index % 2]
                    var random = SeededRandom(seed: UInt64(index + 1))
                    var next = 1
                    for batch in 0..<15 {
                        let count = Int(random.next() % 9) + 1
                        try await store.append(StoreHarness.events(id, from: next, count: count, end: batch == 14 ? .runCompleted : nil))
                        next += count
                    }
                    return (id, next - 1)
                }
            }
            var lastSeqs: [String: Int] = [:]
            for try await (id, last) in group { lastSeqs[id] = last }
            return lastSeqs
        }
        for id in runIDs {
            let events = try await temporary.store.events(runID: id, after: 0, limit: nil)
            let last = try #require(expected[id])
            #expect(events.map(\.seq) == Array(1...last), "run \(id)")
            #expect(events.dropLast().allSatisfy { $0.deltaText == "chunk \($0.seq)" && $0.runID == id }, "run \(id)")
            let run = try #require(try await temporary.store.run(id: id))
            #expect(run.lastSeq == last)
            #expect(run.status == .completed)
        }
    }

    /// Appends of many runs at once where one continues its log wrongly, one names no run and
    /// one holds text the database refuses (a NUL byte, which fails the whole round's statement):
    /// those three get their own error, and every other run's events are written.
    @Test func aRunWhoseEventsFailGetsTheErrorAndTheOthersAreWritten() async throws {
        let temporary = try await TemporaryStore(.postgres)
        defer { temporary.remove() }
        let store = temporary.store
        let good = (0..<20).map { "good_\($0)" }
        for id in good + ["gap", "bad_text"] { try await store.createRun(StoreHarness.newRun(id)) }
        var badText = StoreHarness.events("bad_text", count: 2)
        badText[1].step = "s\u{0}"
        var appends: [(String, [RunEvent])] = good.map { ($0, StoreHarness.events($0, count: 3)) }
        appends += [("gap", StoreHarness.events("gap", from: 2, count: 2)), ("nobody", StoreHarness.events("nobody", count: 1)), ("bad_text", badText)]
        let outcomes = await withTaskGroup(of: (String, StoreError?).self) { group in
            for (id, events) in appends {
                group.addTask {
                    do throws(StoreError) {
                        try await store.append(events)
                        return (id, nil)
                    } catch {
                        return (id, error)
                    }
                }
            }
            var outcomes = Outcomes()
            for await (id, error) in group { outcomes.record(id, error) }
            return outcomes
        }
        for id in good {
            #expect(outcomes.succeeded.contains(id), "run \(id): \(String(describing: outcomes.failures[id]))")
            #expect(try await store.events(runID: id, after: 0, limit: nil).map(\.seq) == [1, 2, 3])
        }
        #expect(outcomes.failures["gap"]?.code == .conflict)
        #expect(outcomes.failures["gap"]?.message.contains("expected 1") == true)
        #expect(outcomes.failures["nobody"]?.code == .notFound)
        let refused = try #require(outcomes.failures["bad_text"])
        #expect(refused.code == .io)
        #expect(refused.message.contains("run bad_text"))
        #expect(try await store.events(runID: "gap", after: 0, limit: nil).isEmpty)
        #expect(try await store.events(runID: "bad_text", after: 0, limit: nil).isEmpty)
        #expect(try await store.run(id: "bad_text")?.lastSeq == 0)
    }

    /// One append of 300 runs with long ids is one round: its NOTIFY is split into payloads
    /// under PostgreSQL's 8000 bytes, and a follower of each run on another store is woken.
    @Test func everyRunOfABigRoundWakesItsFollowers() async throws {
        let temporary = try await TemporaryStore(.postgres)
        defer { temporary.remove() }
        let followerStore = try await temporary.opening(owner: "\(ProcessInfo.processInfo.processIdentifier)@another-host")
        let follower = try #require(followerStore as? PostgresRunStore)
        defer { follower.close() }
        let runIDs = (0..<300).map { "run_" + String(repeating: "x", count: 80) + "_\($0)" }
        for id in runIDs { try await temporary.store.createRun(StoreHarness.newRun(id)) }
        let seen = runIDs.map { follower.watchEvents(runID: $0) }
        defer { runIDs.forEach { follower.unwatchEvents(runID: $0) } }
        // Listening starts with the first watch: wait until a wake-up goes through.
        try await temporary.store.createRun(StoreHarness.newRun("probe"))
        let probe = follower.watchEvents(runID: "probe")
        defer { follower.unwatchEvents(runID: "probe") }
        var probed = false
        for seq in 1...100 where !probed {
            try await temporary.store.append(StoreHarness.events("probe", from: seq, count: 1))
            await follower.waitForEvents(runID: "probe", seen: probe, timeout: .milliseconds(100))
            probed = follower.eventGeneration(runID: "probe") != probe
        }
        #expect(probed, "the follower never heard a wake-up")
        try await temporary.store.append(runIDs.flatMap { StoreHarness.events($0, count: 2) })
        for (id, generation) in zip(runIDs, seen) {
            await follower.waitForEvents(runID: id, seen: generation, timeout: .seconds(10))
            #expect(follower.eventGeneration(runID: id) != generation, "run \(id) was not woken")
        }
    }

    /// Closing the store answers every append already made: each is either stored (another
    /// store reads it) or refused as closed with nothing written; an append after it is refused.
    @Test func closingAnswersEveryAppendAlreadyMade() async throws {
        let temporary = try await TemporaryStore(.postgres)
        defer { temporary.remove() }
        let store = try #require(temporary.store as? PostgresRunStore)
        let runIDs = (0..<30).map { "run_\($0)" }
        for id in runIDs { try await store.createRun(StoreHarness.newRun(id)) }
        let outcomes = await withTaskGroup(of: (String, StoreError?).self) { group in
            for id in runIDs {
                group.addTask {
                    do throws(StoreError) {
                        try await store.append(StoreHarness.events(id, count: 5))
                        return (id, nil)
                    } catch {
                        return (id, error)
                    }
                }
            }
            // Once the first is answered the others are queued or written: close then.
            var outcomes = Outcomes()
            if let (id, error) = await group.next() { outcomes.record(id, error) }
            store.close()
            for await (id, error) in group { outcomes.record(id, error) }
            return outcomes
        }
        let reader = try await temporary.opening(owner: "reader@elsewhere")
        defer { (reader as? PostgresRunStore)?.close() }
        for id in runIDs {
            let stored = try await reader.events(runID: id, after: 0, limit: nil).map(\.seq)
            if let error = outcomes.failures[id] {
                #expect(error.code == .unavailable, "run \(id): \(error.message)")
                #expect(stored.isEmpty, "run \(id) was refused")
            } else {
                #expect(outcomes.succeeded.contains(id), "run \(id) got no answer")
                #expect(stored == [1, 2, 3, 4, 5], "run \(id) was acknowledged")
            }
        }
        #expect(!outcomes.succeeded.isEmpty, "no append was written before the close")
        do {
            try await store.append(StoreHarness.events("run_0", from: 6, count: 1))
            Issue.record("an append after close was accepted")
        } catch {
            #expect(error.code == .unavailable)
            #expect(error.message.contains("closed"))
        }
    }

    /// The database gone under a store (dropped, its sessions ended): every run's append gets
    /// `unavailable` naming its run, none is acknowledged, and none waits forever.
    @Test func appendsToADatabaseThatIsGoneFailAsUnavailable() async throws {
        let temporary = try await TemporaryStore(.postgres)
        defer { temporary.remove() }
        let store = temporary.store
        let runIDs = (0..<10).map { "run_\($0)" }
        for id in runIDs {
            try await store.createRun(StoreHarness.newRun(id))
            try await store.append(StoreHarness.events(id, count: 1))
        }
        let database = try #require(temporary.location.split(separator: "/").last.map(String.init))
        _ = try await PostgresCluster.offThread {
            try #require(try PostgresCluster.shared()).psql("DROP DATABASE \"\(database)\" WITH (FORCE)", database: "postgres")
        }
        let failures = await withTaskGroup(of: (String, StoreError?).self) { group in
            for id in runIDs {
                group.addTask {
                    do throws(StoreError) {
                        try await store.append(StoreHarness.events(id, from: 2, count: 1))
                        return (id, nil)
                    } catch {
                        return (id, error)
                    }
                }
            }
            var outcomes = Outcomes()
            for await (id, error) in group { outcomes.record(id, error) }
            return outcomes
        }
        #expect(failures.succeeded.isEmpty, "acknowledged with the database gone: \(failures.succeeded)")
        for id in runIDs {
            let error = try #require(failures.failures[id], "run \(id) got no error")
            #expect(error.code == .unavailable, "run \(id): \(error.message)")
            #expect(error.message.contains("run \(id) "), "\(error.message)")
        }
    }

    /// Reads of many runs at once (as the followers one round wakes make them) share queries,
    /// yet each gets its own run's events after its own position, up to its own limit.
    @Test func readsOfManyRunsAtOnceEachGetTheirOwnEvents() async throws {
        let temporary = try await TemporaryStore(.postgres)
        defer { temporary.remove() }
        let store = temporary.store
        for index in 0..<30 {
            try await store.createRun(StoreHarness.newRun("run_\(index)"))
            try await store.append(StoreHarness.events("run_\(index)", count: index + 1))
        }
        let reads = await withTaskGroup(of: (Int, [RunEvent]?).self) { group in
            for round in 0..<3 {
                for index in 0..<30 {
                    group.addTask {
                        let events = try? await store.events(runID: "run_\(index)", after: (index + round) % 4, limit: index % 2 == 0 ? 2 : nil)
                        return (round * 100 + index, events)
                    }
                }
            }
            var reads: [Int: [RunEvent]?] = [:]
            for await (key, events) in group { reads[key] = events }
            return reads
        }
        for round in 0..<3 {
            for index in 0..<30 {
                let after = (index + round) % 4
                let last = index % 2 == 0 ? min(index + 1, after + 2) : index + 1
                let events = try #require(reads[round * 100 + index] ?? nil, "read \(round)/\(index) failed")
                #expect(events.map(\.seq) == Array(stride(from: after + 1, through: last, by: 1)), "run_\(index) after \(after)")
                #expect(events.allSatisfy { $0.runID == "run_\(index)" && $0.deltaText == "chunk \($0.seq)" })
            }
        }
    }

    /// Which appends succeeded, and the error of each that did not.
    private struct Outcomes {
        var succeeded: Set<String> = []
        var failures: [String: StoreError] = [:]

        mutating func record(_ id: String, _ error: StoreError?) {
            if let error { failures[id] = error } else { succeeded.insert(id) }
        }
    }
}
