import Foundation
import SluiceJSON
import SluiceTesting
import Testing

/// Two real `sluice serve` processes with separate `SLUICE_HOME`s on one PostgreSQL store
/// (`SLUICE_STORE`): a run started on one is followed from the other with `Last-Event-ID`
/// (woken by LISTEN/NOTIFY), and
/// a run whose replica was SIGKILLed is resumed by a replica started after it — every event
/// once, in one gapless log kept in PostgreSQL (the homes get no SQLite store).
@Suite(.serialized, .timeLimit(.minutes(5)), .enabled(if: PostgresCluster.available, "PostgreSQL is not installed (CI installs it)"))
struct PostgresReplicaProcessTests {
    @Test func aRunOnOneReplicaIsFollowedFromAnotherFromLastEventID() async throws {
        let (url, database) = try await Self.newDatabase()
        let homes = [Self.scratchHome(), Self.scratchHome()]
        defer { homes.forEach(Self.remove) }
        let first = try await ServeProcess(home: homes[0], delayMilliseconds: 100, environment: ["SLUICE_STORE": url])
        defer { first.terminate() }
        // The follower waits for LISTEN/NOTIFY wake-ups: its safety-net poll is far longer
        // than the test's time limit, so the run is followed to its end only through them.
        let second = try await ServeProcess(
            home: homes[1], delayMilliseconds: 100, environment: ["SLUICE_STORE": url, "SLUICE_STORE_FOLLOW_POLL": "1h"])
        defer { second.terminate() }

        let started = try await HTTP.request(first.port, "POST", "/v1/plans/news_report/runs", json: ["inputs": ["task": "AI agents"]])
        #expect(started.status == 202, "\(started.text)")
        let runID = try #require(started.json?["run_id"]?.stringValue)
        let (head, reader, _) = try await HTTP.sse(first.port, "GET", "/v1/runs/\(runID)/events")
        #expect(head.status == 200)
        var before: [ReceivedSSE] = []
        while let event = await reader.next() {
            before.append(event)
            if before.filter({ $0.data.contains(#""type":"step.completed""#) }).count >= 2 { break }
        }
        let lastSeen = try #require(before.last?.id)
        let (otherHead, otherReader, _) = try await HTTP.sse(second.port, "GET", "/v1/runs/\(runID)/events", headers: ["Last-Event-ID": lastSeen])
        #expect(otherHead.status == 200, "\(second.stderr)")
        let after = await HTTP.drain(otherReader)
        #expect(after.last?.event == "final_result", "\(after.last?.data.prefix(300) ?? "nothing from the other replica")")

        let ids = (before + after).compactMap { $0.id.flatMap { Int($0) } }
        #expect(ids == Array(1...ids.count))
        let stored = try await Self.psql("SELECT count(*) FROM events WHERE run_id = '\(runID)'", database: database)
        #expect(stored == "\(ids.count)")
        let summary = try await HTTP.request(second.port, "GET", "/v1/runs/\(runID)")
        #expect(summary.json?["status"] == "completed", "\(summary.text)")
        #expect(homes.allSatisfy { !FileManager.default.fileExists(atPath: $0 + "/runs.sqlite") })
    }

    @Test func aKilledReplicasRunIsResumedByAnotherReplica() async throws {
        let (url, database) = try await Self.newDatabase()
        let homes = [Self.scratchHome(), Self.scratchHome()]
        defer { homes.forEach(Self.remove) }
        let first = try await ServeProcess(home: homes[0], delayMilliseconds: 100, environment: ["SLUICE_STORE": url])
        let started = try await HTTP.request(first.port, "POST", "/v1/plans/news_report/runs", json: ["inputs": ["task": "AI agents"]])
        #expect(started.status == 202, "\(started.text)")
        let runID = try #require(started.json?["run_id"]?.stringValue)
        let (_, reader, _) = try await HTTP.sse(first.port, "GET", "/v1/runs/\(runID)/events")
        var before: [ReceivedSSE] = []
        while let event = await reader.next() {
            before.append(event)
            if before.filter({ $0.data.contains(#""type":"step.completed""#) }).count >= 2 { break }
        }
        await first.kill()
        let ended = try await Self.psql("SELECT status FROM runs WHERE id = '\(runID)'", database: database)
        try #require(ended == "running", "the run ended (\(ended)) before its replica was killed")

        let second = try await ServeProcess(home: homes[1], environment: ["SLUICE_STORE": url])
        defer { second.terminate() }
        let lastSeen = try #require(before.last?.id)
        let (resumedHead, resumedReader, _) = try await HTTP.sse(second.port, "GET", "/v1/runs/\(runID)/events", headers: ["Last-Event-ID": lastSeen])
        #expect(resumedHead.status == 200, "\(second.stderr)")
        let after = await HTTP.drain(resumedReader)
        #expect(after.last?.event == "final_result", "\(after.last?.data.prefix(300) ?? "nothing after the kill")")

        let ids = (before + after).compactMap { $0.id.flatMap { Int($0) } }
        #expect(ids == Array(1...ids.count))
        #expect(try await Self.psql("SELECT count(*) FROM events WHERE run_id = '\(runID)'", database: database) == "\(ids.count)")
        #expect(try await Self.psql("SELECT count(*) FROM events WHERE run_id = '\(runID)' AND type = 'run.resumed'", database: database) == "1")
        #expect(try await Self.psql("SELECT status || ' ' || resumes FROM runs WHERE id = '\(runID)'", database: database) == "completed 1")
    }

    /// Both replicas running when one is SIGKILLed: the survivor takes the run over (it looks
    /// for runs whose owner is gone every third of the lease, `SLUICE_STORE_LEASE`), and the
    /// model calls completed before the kill are not made again.
    @Test func aRunningReplicaTakesOverTheRunOfAKilledOne() async throws {
        let (url, database) = try await Self.newDatabase()
        let homes = [Self.scratchHome(), Self.scratchHome()]
        defer { homes.forEach(Self.remove) }
        let environment = ["SLUICE_STORE": url, "SLUICE_STORE_LEASE": "3s"]
        let first = try await ServeProcess(home: homes[0], delayMilliseconds: 100, environment: environment)
        let second = try await ServeProcess(home: homes[1], delayMilliseconds: 100, environment: environment)
        defer { second.terminate() }

        let started = try await HTTP.request(first.port, "POST", "/v1/plans/news_report/runs", json: ["inputs": ["task": "AI agents"]])
        #expect(started.status == 202, "\(started.text)")
        let runID = try #require(started.json?["run_id"]?.stringValue)
        let (_, reader, _) = try await HTTP.sse(first.port, "GET", "/v1/runs/\(runID)/events")
        var before: [ReceivedSSE] = []
        while let event = await reader.next() {
            before.append(event)
            if before.filter({ $0.data.contains(#""type":"step.completed""#) }).count >= 2 { break }
        }
        await first.kill()
        let lastSeen = try #require(before.last?.id)
        let (head, otherReader, _) = try await HTTP.sse(second.port, "GET", "/v1/runs/\(runID)/events", headers: ["Last-Event-ID": lastSeen])
        #expect(head.status == 200, "\(second.stderr)")
        let after = await HTTP.drain(otherReader)
        #expect(after.last?.event == "final_result", "\(after.last?.data.prefix(300) ?? "nothing after the kill")\n\(second.stderr)")
        #expect(second.stderr.contains("resuming run \(runID)"), "\(second.stderr)")

        let ids = (before + after).compactMap { $0.id.flatMap { Int($0) } }
        #expect(ids == Array(1...ids.count))
        #expect(try await Self.psql("SELECT status || ' ' || resumes FROM runs WHERE id = '\(runID)'", database: database) == "completed 1")
        try await Self.expectNoModelCallPaidTwice(runID: runID, database: database)
    }

    /// SIGTERM on the replica executing a run: it stops the run without ending it (no
    /// `run.cancelled`), gives its lease back and exits; the other running replica, woken by
    /// the hand-back's NOTIFY, takes the run over at once and finishes it — one gapless log, no event twice, no completed model call
    /// paid twice.
    @Test func aSIGTERMedReplicaHandsItsRunBackToARunningOne() async throws {
        let (url, database) = try await Self.newDatabase()
        let homes = [Self.scratchHome(), Self.scratchHome()]
        defer { homes.forEach(Self.remove) }
        // A lease of an hour: the survivor looks for interrupted runs every 20 minutes, so it
        // takes this one over only when the hand-back's notification wakes it.
        let environment = ["SLUICE_STORE": url, "SLUICE_STORE_LEASE": "1h"]
        let first = try await ServeProcess(home: homes[0], delayMilliseconds: 100, arguments: ["--grace", "600"], environment: environment)
        let second = try await ServeProcess(home: homes[1], delayMilliseconds: 100, environment: environment)
        defer { second.terminate() }

        let started = try await HTTP.request(first.port, "POST", "/v1/plans/news_report/runs", json: ["inputs": ["task": "AI agents"]])
        #expect(started.status == 202, "\(started.text)")
        let runID = try #require(started.json?["run_id"]?.stringValue)
        let (_, reader, _) = try await HTTP.sse(first.port, "GET", "/v1/runs/\(runID)/events")
        var before: [ReceivedSSE] = []
        while let event = await reader.next() {
            before.append(event)
            if before.filter({ $0.data.contains(#""type":"step.completed""#) }).count >= 2 { break }
        }
        // With --grace 600 a draining replica would still be running the run; this one exits.
        await first.stop()
        #expect(!first.stderr.contains("cannot hand runs back"), "\(first.stderr)")
        // Not ended, and no longer the stopped replica's (given back, or already taken over).
        let stored = try await Self.psql("SELECT status || ' ' || (owner IS NULL OR owner NOT LIKE '\(first.pid)@%') FROM runs WHERE id = '\(runID)'", database: database)
        try #require(["running true", "completed true"].contains(stored), "the run was not handed back: \(stored)")
        #expect(try await Self.psql("SELECT count(*) FROM events WHERE run_id = '\(runID)' AND type = 'run.cancelled'", database: database) == "0")

        let seenBefore = try #require(Int(before.last?.id ?? ""))
        let (head, otherReader, _) = try await HTTP.sse(second.port, "GET", "/v1/runs/\(runID)/events", headers: ["Last-Event-ID": String(seenBefore)])
        #expect(head.status == 200, "\(second.stderr)")
        let after = await HTTP.drain(otherReader)
        #expect(after.last?.event == "final_result", "\(after.last?.data.prefix(300) ?? "nothing after SIGTERM")\n\(second.stderr)")
        #expect(second.stderr.contains("resuming run \(runID)"), "\(second.stderr)")

        let ids = (before + after).compactMap { $0.id.flatMap { Int($0) } }
        #expect(ids == Array(1...ids.count))
        #expect(try await Self.psql("SELECT count(*) FROM events WHERE run_id = '\(runID)'", database: database) == "\(ids.count)")
        #expect(try await Self.psql("SELECT status || ' ' || resumes FROM runs WHERE id = '\(runID)'", database: database) == "completed 1")
        try await Self.expectNoModelCallPaidTwice(runID: runID, database: database)
    }

    /// `DELETE /v1/runs/{id}` on the replica that does not execute the run: the executing one
    /// ends the run with `run.cancelled`. The cancel reaches it by NOTIFY: with the safety-net
    /// poll at an hour, a replica that only read the flag now and then would finish the run.
    @Test func aRunIsCancelledFromAnotherReplica() async throws {
        let (url, database) = try await Self.newDatabase()
        let homes = [Self.scratchHome(), Self.scratchHome()]
        defer { homes.forEach(Self.remove) }
        let environment = ["SLUICE_STORE": url, "SLUICE_STORE_FOLLOW_POLL": "1h"]
        let first = try await ServeProcess(home: homes[0], delayMilliseconds: 100, environment: environment)
        defer { first.terminate() }
        let second = try await ServeProcess(home: homes[1], delayMilliseconds: 100, environment: environment)
        defer { second.terminate() }

        let started = try await HTTP.request(first.port, "POST", "/v1/plans/news_report/runs", json: ["inputs": ["task": "AI agents"]])
        let runID = try #require(started.json?["run_id"]?.stringValue)
        let (_, reader, _) = try await HTTP.sse(first.port, "GET", "/v1/runs/\(runID)/events")
        while let event = await reader.next() {
            if event.data.contains(#""type":"step.completed""#) { break }
        }
        let cancelled = try await HTTP.request(second.port, "DELETE", "/v1/runs/\(runID)")
        #expect(cancelled.status == 202, "\(cancelled.text)")
        #expect(cancelled.json?["status"] == "cancelling", "\(cancelled.text)")
        let rest = await HTTP.drain(reader)
        #expect(rest.last?.data.contains(#""status":"cancelled""#) == true, "\(rest.suffix(2).map(\.data))")
        #expect(try await Self.psql("SELECT status FROM runs WHERE id = '\(runID)'", database: database) == "cancelled")
        #expect(try await Self.psql("SELECT type FROM events WHERE run_id = '\(runID)' ORDER BY seq DESC LIMIT 1", database: database) == "run.cancelled")
        let again = try await HTTP.request(second.port, "DELETE", "/v1/runs/\(runID)")
        #expect(again.status == 409, "\(again.text)")
    }

    // MARK: Helpers

    /// Every model call of a resumed run is paid once: the paid calls before its `run.resumed`
    /// and after it are different steps, items and rounds (and there were some before).
    static func expectNoModelCallPaidTwice(runID: String, database: String) async throws {
        let paid = try await psql("""
            SELECT e.seq > r.seq, e.step || '/' || coalesce(e.item::text, '') || '/' || coalesce(e.iteration::text, '')
            FROM events e, (SELECT seq FROM events WHERE run_id = '\(runID)' AND type = 'run.resumed') r
            WHERE e.run_id = '\(runID)' AND e.type = 'model.usage' AND e.data NOT LIKE '%"cache":%'
            """, database: database).split(separator: "\n").map { $0.split(separator: "|", maxSplits: 1).map(String.init) }
        let paidBefore = paid.filter { $0.first == "f" }.compactMap(\.last)
        let paidAfter = paid.filter { $0.first == "t" }.compactMap(\.last)
        #expect(!paidBefore.isEmpty)
        #expect(Set(paidBefore).isDisjoint(with: Set(paidAfter)), "paid again: \(Set(paidBefore).intersection(Set(paidAfter)))")
    }

    static func newDatabase() async throws -> (url: String, database: String) {
        let url = try await PostgresCluster.offThread {
            guard let cluster = try PostgresCluster.shared() else { throw PostgresCluster.Failure(description: "PostgreSQL is not installed") }
            return try cluster.createDatabase(prefix: "replicas")
        }
        return (url, String(url.split(separator: "/").last ?? ""))
    }

    static func psql(_ sql: String, database: String) async throws -> String {
        try await PostgresCluster.offThread {
            guard let cluster = try PostgresCluster.shared() else { throw PostgresCluster.Failure(description: "PostgreSQL is not installed") }
            return try cluster.psql(sql, database: database).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    static func scratchHome() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("sluice-replica-\(UUID().uuidString)").path
    }

    static func remove(_ home: String) {
        guard FileManager.default.fileExists(atPath: home) else { return }
        do { try FileManager.default.removeItem(atPath: home) } catch { print("could not remove \(home): \(error)") }
    }
}
