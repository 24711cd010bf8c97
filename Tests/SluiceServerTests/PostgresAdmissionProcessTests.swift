import Foundation
import SluiceJSON
import SluiceTesting
import Testing

/// How real `sluice serve` replicas on one PostgreSQL store admit runs: every run is in the
/// store before the receiving replica answers (another replica reads it at once), the
/// receiving replica executes it itself when it has a free place, the limits hold across
/// replicas, and a replica never claims a run of a plan version it does not serve.
@Suite(.serialized, .timeLimit(.minutes(5)), .enabled(if: PostgresCluster.available, "PostgreSQL is not installed (CI installs it)"))
struct PostgresAdmissionProcessTests {
    typealias Replicas = PostgresReplicaProcessTests

    static let keys = "alice-key:alice,bob-key:bob"
    static let alice = ["Authorization": "Bearer alice-key"]
    static let bob = ["Authorization": "Bearer bob-key"]
    static let inputs: JSONValue = ["inputs": ["task": "AI agents"]]

    /// Right after the 202 on one replica, the other finds the run; a run the receiving
    /// replica has room for runs there (no other replica is woken for it: the follow poll is
    /// an hour), one it has no room for runs on the other.
    @Test func aStartedRunIsInTheStoreBeforeTheReplicaAnswers() async throws {
        let pair = try await Pair.start(environment: ["SLUICE_STORE_FOLLOW_POLL": "1h"], first: ["--max-runs", "1"])
        defer { pair.end() }
        let (first, second, database) = (pair.first, pair.second, pair.database)
        var runIDs: [String] = []
        for _ in 0..<2 {
            let started = try await HTTP.request(first.port, "POST", "/v1/plans/news_report/runs", json: Self.inputs)
            #expect(started.status == 202, "\(started.text)")
            let runID = try #require(started.json?["run_id"]?.stringValue)
            let elsewhere = try await HTTP.request(second.port, "GET", "/v1/runs/\(runID)")
            #expect(elsewhere.status == 200, "\(elsewhere.text)")
            #expect(elsewhere.json?["status"] == "running", "\(elsewhere.text)")
            runIDs.append(runID)
        }
        for (runID, executor) in zip(runIDs, [first.pid, second.pid]) {
            let owner = try await Self.owner(of: runID, database: database)
            #expect(owner.hasPrefix("\(executor)@"), "run \(runID) is owned by \(owner); replicas \(first.pid), \(second.pid)")
        }
        for runID in runIDs {
            let (_, reader, _) = try await HTTP.sse(second.port, "GET", "/v1/runs/\(runID)/events")
            let events = await HTTP.drain(reader)
            #expect(events.last?.event == "final_result", "\(events.last?.data.prefix(300) ?? "nothing")\n\(first.stderr)")
        }
    }

    /// The same through MCP: a 2025-11-25 task-augmented `tools/call` on one replica answers
    /// with its task once the run is in the store, so the other replica finds the run at once.
    @Test func anMCPTasksRunIsInTheStoreBeforeItsTaskIsAnswered() async throws {
        let pair = try await Pair.start()
        defer { pair.end() }
        let (first, second) = (pair.first, pair.second)
        let client = MCPTestClient(HTTPTransport(port: first.port))
        try await client.initialize(version: "2025-11-25")
        let created = try await client.request("tools/call", ["name": "news_report", "arguments": ["task": "AI agents"], "task": ["ttl": 60000]])
        let runID = try #require(created["result"]?["task"]?["taskId"]?.stringValue, "\(created)")
        let elsewhere = try await HTTP.request(second.port, "GET", "/v1/runs/\(runID)")
        #expect(elsewhere.status == 200, "\(elsewhere.text)")
        await client.close()
    }

    /// `--runs-per-user` counts a user's runs on every replica: alice, at her limit with a
    /// run on one replica, is refused on the other; bob is not; once her run ends she starts again.
    @Test func aUserAtTheLimitOnOneReplicaIsRefusedOnAnother() async throws {
        let pair = try await Pair.start(environment: ["SLUICE_API_KEYS": Self.keys], first: ["--runs-per-user", "1"], second: ["--runs-per-user", "1"])
        defer { pair.end() }
        let replicas = [pair.first, pair.second]
        let started = try await HTTP.request(replicas[0].port, "POST", "/v1/plans/news_report/runs", headers: Self.alice, json: Self.inputs)
        #expect(started.status == 202, "\(started.text)")
        let runID = try #require(started.json?["run_id"]?.stringValue)
        let refused = try await HTTP.request(replicas[1].port, "POST", "/v1/plans/news_report/runs", headers: Self.alice, json: Self.inputs)
        #expect(refused.status == 429, "\(refused.text)")
        #expect(refused.headers["retry-after"] == "5")
        #expect(refused.json?["error"]?.stringValue?.contains("per-user limit") == true, "\(refused.text)")
        let other = try await HTTP.request(replicas[1].port, "POST", "/v1/plans/news_report/runs", headers: Self.bob, json: Self.inputs)
        #expect(other.status == 202, "\(other.text)")

        let (_, reader, _) = try await HTTP.sse(replicas[1].port, "GET", "/v1/runs/\(runID)/events", headers: Self.alice)
        #expect(await HTTP.drain(reader).last?.event == "final_result")
        let again = try await HTTP.request(replicas[1].port, "POST", "/v1/plans/news_report/runs", headers: Self.alice, json: Self.inputs)
        #expect(again.status == 202, "\(again.text)")
    }

    /// `--max-queued-runs` counts the runs waiting in the store: with every replica full and
    /// one run waiting, the next is refused on either replica.
    @Test func theQueuedRunLimitCountsTheSharedQueue() async throws {
        let options = ["--max-runs", "1", "--max-queued-runs", "1"]
        let pair = try await Pair.start(first: options, second: options)
        defer { pair.end() }
        let (replicas, database) = ([pair.first, pair.second], pair.database)
        // One run on each replica's one place, then one queued (through the first).
        for port in [replicas[0].port, replicas[1].port, replicas[0].port] {
            let started = try await HTTP.request(port, "POST", "/v1/plans/news_report/runs", json: Self.inputs)
            #expect(started.status == 202, "\(started.text)")
        }
        let runs = try await Replicas.psql("SELECT string_agg(status || ' ' || queued || ' ' || coalesce(error, '-'), '; ') FROM runs", database: database)
        #expect(try await Replicas.psql("SELECT count(*) FROM runs WHERE queued", database: database) == "1", "\(runs)")
        let refused = try await HTTP.request(replicas[1].port, "POST", "/v1/plans/news_report/runs", json: Self.inputs)
        #expect(refused.status == 429, "\(refused.text)")
        #expect(refused.json?["error"]?.stringValue?.contains("shared queue") == true, "\(refused.text)")
        #expect(try await Replicas.psql("SELECT count(*) FROM runs", database: database) == "3")
    }

    /// A rolling deploy: the replica serving another version of `news_report` (other bytes,
    /// another content hash) has room the whole time, and is woken by the queued run, yet
    /// leaves it to the replica serving the version it was started with.
    @Test func aRunIsClaimedOnlyByAReplicaServingTheSamePlanVersion() async throws {
        let newer = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-plans-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: newer) }
        try FileManager.default.copyItem(atPath: TestPaths.shippedPlans, toPath: newer.path)
        let plan = newer.appendingPathComponent("news_report.json")
        try (try Data(contentsOf: plan) + Data("\n".utf8)).write(to: plan)

        let pair = try await Pair.start(first: ["--max-runs", "1"], secondPlans: newer.path)
        defer { pair.end() }
        let (old, new, database) = (pair.first, pair.second, pair.database)
        let runIDs = try await Self.startRuns(2, on: old)
        // The second waits for the old replica's one place (a run takes seconds).
        for runID in runIDs {
            let owner = try await Self.owner(of: runID, database: database)
            #expect(owner.hasPrefix("\(old.pid)@"), "run \(runID) is executed by \(owner); the old version is served by \(old.pid)")
        }
        for runID in runIDs {
            let (_, reader, _) = try await HTTP.sse(old.port, "GET", "/v1/runs/\(runID)/events")
            #expect(await HTTP.drain(reader).last?.event == "final_result", "\(old.stderr)")
        }
        // The new version's own runs run there.
        let started = try await HTTP.request(new.port, "POST", "/v1/plans/news_report/runs", json: Self.inputs)
        let runID = try #require(started.json?["run_id"]?.stringValue)
        #expect(try await Self.owner(of: runID, database: database).hasPrefix("\(new.pid)@"))
    }

    /// Runs taken over from a replica that stopped count against the taker's `--max-runs`:
    /// given two runs back (SIGTERM), a replica with one place executes one at a time, and
    /// both end.
    @Test func takenOverRunsHoldThePlacesOfTheReplicaTakingThem() async throws {
        // A 3 s lease: the taker looks again every second for what it had no place for.
        let pair = try await Pair.start(environment: ["SLUICE_STORE_LEASE": "3s"], delayMilliseconds: 60, second: ["--max-runs", "1"])
        defer { pair.end() }
        let (first, second, database) = (pair.first, pair.second, pair.database)
        let runIDs = try await Self.startRuns(2, on: first)
        for runID in runIDs { #expect(try await Self.owner(of: runID, database: database).hasPrefix("\(first.pid)@")) }
        await first.stop()
        let list = runIDs.map { "'\($0)'" }.joined(separator: ", ")
        var mostAtOnce = 0
        var ended = ""
        for _ in 0..<2400 where ended != "2" {
            let executing = try await Replicas.psql(
                "SELECT count(*) FROM runs WHERE id IN (\(list)) AND status = 'running' AND owner LIKE '\(second.pid)@%'", database: database)
            mostAtOnce = max(mostAtOnce, Int(executing) ?? 0)
            ended = try await Replicas.psql("SELECT count(*) FROM runs WHERE id IN (\(list)) AND status = 'completed'", database: database)
            try await Task.sleep(for: .milliseconds(25))
        }
        #expect(ended == "2", "\(second.stderr)")
        #expect(mostAtOnce == 1, "the replica with one place executed \(mostAtOnce) runs at once")
        for runID in runIDs { #expect(second.stderr.contains("resuming run \(runID)"), "\(second.stderr)") }
    }

    /// `sluice serve --stdio` on a shared store, its stdin closed while a task's run goes on:
    /// it stops the run without ending it and gives its lease back, so a replica takes it
    /// over at once (the lease is an hour: without the release it would be held that long).
    @Test func aStdioServerGivesItsLeasesBackWhenItsInputCloses() async throws {
        let (url, database) = try await Replicas.newDatabase()
        let transport = try StdioTransport(
            arguments: ["--simulated-delay-ms", "100"], environment: ["SLUICE_STORE": url, "SLUICE_STORE_LEASE": "1h"], plans: TestPaths.shippedPlans)
        let client = MCPTestClient(transport)
        _ = try await client.initialize()
        let created = try await client.request("tools/call", ["name": "news_report", "arguments": ["task": "AI agents"], "task": ["ttl": 60000]])
        let runID = try #require(created["result"]?["task"]?["taskId"]?.stringValue, "\(created)")
        var events = "0"
        for _ in 0..<400 where (Int(events) ?? 0) < 4 {
            events = try await Replicas.psql("SELECT count(*) FROM events WHERE run_id = '\(runID)'", database: database)
            try await Task.sleep(for: .milliseconds(25))
        }
        #expect(try await Replicas.psql("SELECT status || ' ' || (owner IS NOT NULL) FROM runs WHERE id = '\(runID)'", database: database) == "running true")
        await client.close()
        #expect(transport.exitStatus == 0)
        let stored = try await Replicas.psql("""
            SELECT status || ' ' || (owner IS NULL) || ' ' || coalesce((lease_expires_at < extract(epoch FROM clock_timestamp()))::text, 'none')
            FROM runs WHERE id = '\(runID)'
            """, database: database)
        #expect(stored == "running true true", "\(stored)")
        #expect(try await Replicas.psql("SELECT count(*) FROM events WHERE run_id = '\(runID)' AND type = 'run.cancelled'", database: database) == "0")
    }

    /// Starts `count` runs of `news_report` through `replica`; their ids.
    static func startRuns(_ count: Int, on replica: ServeProcess) async throws -> [String] {
        var runIDs: [String] = []
        for _ in 0..<count {
            let started = try await HTTP.request(replica.port, "POST", "/v1/plans/news_report/runs", json: inputs)
            #expect(started.status == 202, "\(started.text)")
            runIDs.append(try #require(started.json?["run_id"]?.stringValue))
        }
        return runIDs
    }

    /// The run's owner once one replica has claimed it (it is cleared when the run ends).
    static func owner(of runID: String, database: String) async throws -> String {
        var owner = ""
        for _ in 0..<1200 {
            owner = try await Replicas.psql("SELECT coalesce(owner, 'none') FROM runs WHERE id = '\(runID)'", database: database)
            if owner != "none" { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        return owner
    }

    /// Two replicas on a new database, with `environment` besides `SLUICE_STORE`.
    struct Pair {
        let database: String
        let first: ServeProcess
        let second: ServeProcess
        let homes: [String]

        static func start(
            environment: [String: String] = [:], delayMilliseconds: Int = 100, first: [String] = [], second: [String] = [],
            firstPlans: String = TestPaths.shippedPlans, secondPlans: String = TestPaths.shippedPlans
        ) async throws -> Pair {
            let (url, database) = try await Replicas.newDatabase()
            let homes = [Replicas.scratchHome(), Replicas.scratchHome()]
            let environment = environment.merging(["SLUICE_STORE": url]) { $1 }
            let one = try await ServeProcess(
                home: homes[0], delayMilliseconds: delayMilliseconds, plans: firstPlans, arguments: first, environment: environment)
            do {
                let other = try await ServeProcess(
                    home: homes[1], delayMilliseconds: delayMilliseconds, plans: secondPlans, arguments: second, environment: environment)
                return Pair(database: database, first: one, second: other, homes: homes)
            } catch {
                one.terminate()
                homes.forEach(Replicas.remove)
                throw error
            }
        }

        func end() {
            first.terminate()
            second.terminate()
            homes.forEach(Replicas.remove)
        }
    }
}
