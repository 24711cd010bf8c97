import Foundation
import SluiceJSON
import SluiceTesting
import Testing

/// The per-user limits of real `sluice serve` replicas on one PostgreSQL store, where a
/// request's replica alone cannot know the count: MCP sessions, and resumes of stored runs.
@Suite(.serialized, .timeLimit(.minutes(5)), .enabled(if: PostgresCluster.available, "PostgreSQL is not installed (CI installs it)"))
struct PostgresLimitsProcessTests {
    typealias Admission = PostgresAdmissionProcessTests
    typealias Replicas = PostgresReplicaProcessTests

    static let initialize: JSONValue = [
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": ["protocolVersion": "2025-11-25", "capabilities": .object(JSONObject()), "clientInfo": ["name": "t", "version": "1"]],
    ]

    static func mcpHeaders(_ user: [String: String]) -> [String: String] {
        user.merging(["Accept": "application/json, text/event-stream"]) { $1 }
    }

    /// `--sessions-per-user` counts a user's MCP sessions on every replica: alice, at her
    /// limit with a session on one replica, is refused (429, the same message) on the other;
    /// bob is not; once she ends her session she opens one on the other.
    @Test func aUserAtTheSessionLimitOnOneReplicaIsRefusedOnAnother() async throws {
        let options = ["--sessions-per-user", "1"]
        let pair = try await Admission.Pair.start(environment: ["SLUICE_API_KEYS": Admission.keys], first: options, second: options)
        defer { pair.end() }
        let (first, second) = (pair.first, pair.second)
        let opened = try await HTTP.request(first.port, "POST", "/mcp", headers: Self.mcpHeaders(Admission.alice), json: Self.initialize)
        #expect(opened.status == 200, "\(opened.text)")
        let sessionID = try #require(opened.headers["mcp-session-id"], "\(opened.headers)")

        let refused = try await HTTP.request(second.port, "POST", "/mcp", headers: Self.mcpHeaders(Admission.alice), json: Self.initialize)
        #expect(refused.status == 429, "\(refused.text)")
        #expect(refused.headers["retry-after"] == "5")
        #expect(refused.json?["error"]?["message"]?.stringValue?.contains("you already hold 1 MCP sessions (the per-user limit)") == true, "\(refused.text)")
        #expect(try await Replicas.psql("SELECT count(*) FROM mcp_sessions WHERE user_name = 'alice'", database: pair.database) == "1")

        let bobs = try await HTTP.request(second.port, "POST", "/mcp", headers: Self.mcpHeaders(Admission.bob), json: Self.initialize)
        #expect(bobs.status == 200, "\(bobs.text)")

        let ended = try await HTTP.request(first.port, "DELETE", "/mcp", headers: Admission.alice.merging(["MCP-Session-Id": sessionID]) { $1 })
        #expect(ended.status == 204, "\(ended.text)")
        let again = try await HTTP.request(second.port, "POST", "/mcp", headers: Self.mcpHeaders(Admission.alice), json: Self.initialize)
        #expect(again.status == 200, "\(again.text)")

        // A store that cannot record the session (its table gone): 503, no session.
        _ = try await Replicas.psql("ALTER TABLE mcp_sessions RENAME TO mcp_sessions_away", database: pair.database)
        let unrecorded = try await HTTP.request(first.port, "POST", "/mcp", headers: Self.mcpHeaders(Admission.bob), json: Self.initialize)
        #expect(unrecorded.status == 503, "\(unrecorded.text)")
        #expect(unrecorded.headers["mcp-session-id"] == nil)
        #expect(unrecorded.json?["error"]?["message"]?.stringValue?.contains("could not be recorded in the store") == true, "\(unrecorded.text)")
    }

    /// A resume of a stored run counts against `--runs-per-user` across replicas like a new
    /// run: alice, at her limit of one with a run going on one replica, is refused (429) a
    /// resume of her failed run on the other; once that run ended, the resume is accepted and
    /// parks at its question (`waiting`, her one active run), and her answer through the
    /// first replica resumes it without counting it twice.
    @Test func aResumeCountsAgainstTheUsersRunsOnEveryReplica() async throws {
        let options = ["--runs-per-user", "1"]
        let pair = try await Admission.Pair.start(
            environment: ["SLUICE_API_KEYS": Admission.keys], delayMilliseconds: 400, first: options, second: options,
            firstPlans: TestPaths.fixturePlans, secondPlans: TestPaths.fixturePlans)
        defer { pair.end() }
        let (first, second) = (pair.first, pair.second)
        let alice = Admission.alice
        // `ask` fails at its confirm step when nobody is asked.
        let failed = try await HTTP.request(first.port, "POST", "/v1/plans/ask/runs", headers: alice, json: ["inputs": ["topic": "weirs"]])
        let failedID = try #require(failed.json?["run_id"]?.stringValue, "\(failed.text)")
        _ = try await HTTP.request(first.port, "GET", "/v1/runs/\(failedID)/events", headers: alice)
        #expect(try await Replicas.psql("SELECT status FROM runs WHERE id = '\(failedID)'", database: pair.database) == "failed")

        let going = try await HTTP.request(first.port, "POST", "/v1/plans/ask/runs", headers: alice, json: ["inputs": ["auto_confirm": true]])
        #expect(going.status == 202, "\(going.text)")
        let goingID = try #require(going.json?["run_id"]?.stringValue)
        let refused = try await HTTP.request(second.port, "POST", "/v1/runs/\(failedID)/resume", headers: alice, json: .object([:]))
        #expect(refused.status == 429, "\(refused.text)")
        #expect(refused.headers["retry-after"] == "5")
        #expect(refused.json?["error"]?.stringValue?.contains("per-user limit") == true, "\(refused.text)")
        #expect(try await Replicas.psql("SELECT status FROM runs WHERE id = '\(failedID)'", database: pair.database) == "failed")

        _ = try await HTTP.request(first.port, "DELETE", "/v1/runs/\(goingID)", headers: alice)
        _ = try await HTTP.request(first.port, "GET", "/v1/runs/\(goingID)/events", headers: alice)
        let resumed = try await HTTP.request(second.port, "POST", "/v1/runs/\(failedID)/resume", headers: alice, json: ["confirm": "ask"])
        #expect(resumed.status == 202, "\(resumed.text)")
        var answer = try await HTTP.request(first.port, "POST", "/v1/runs/\(failedID)/answer", headers: alice, json: ["approve": true])
        for _ in 0..<400 where answer.status == 409 {
            try await Task.sleep(for: .milliseconds(50))
            answer = try await HTTP.request(first.port, "POST", "/v1/runs/\(failedID)/answer", headers: alice, json: ["approve": true])
        }
        #expect(answer.status == 200, "\(answer.text)")
        let events = try await HTTP.request(first.port, "GET", "/v1/runs/\(failedID)/events", headers: alice).text
        #expect(events.contains("event: final_result"), "\(events.suffix(400))")
    }

    /// A run left interrupted holds its user's place while the replica serves its plan
    /// version (it could take it over), and not once no replica serves that version: alice,
    /// at `--runs-per-user 1` with such a run, is refused while it is of the served version,
    /// and admitted once it is of a version nobody serves. A server run of a version the
    /// replica does not serve is left interrupted, not taken over (the replica looks every
    /// second with a 3 s lease).
    @Test func anInterruptedRunOfAPlanNoReplicaServesStopsCounting() async throws {
        let (url, database) = try await Replicas.newDatabase()
        let home = Replicas.scratchHome()
        defer { Replicas.remove(home) }
        let replica = try await ServeProcess(
            home: home, delayMilliseconds: 100, arguments: ["--runs-per-user", "1"],
            environment: ["SLUICE_STORE": url, "SLUICE_API_KEYS": Admission.keys, "SLUICE_STORE_LEASE": "3s"])
        defer { replica.terminate() }
        var served = "0"
        for _ in 0..<400 where served == "0" {
            served = try await Replicas.psql("SELECT count(*) FROM served_plans WHERE plan_name = 'news_report'", database: database)
            try await Task.sleep(for: .milliseconds(25))
        }
        #expect(served == "1", "the replica never said it serves news_report")
        // Left by a replica that is gone (its lease ran out); not a server run, so nobody takes it over.
        _ = try await Replicas.psql("""
            INSERT INTO runs (id, plan_name, plan_path, plan_hash, inputs, options, user_name, status, created_at, updated_at, owner, lease_expires_at)
            SELECT 'run_stuck', plan_name, 'news_report.json', plan_hash, '{}', '{}', 'alice', 'running', 1, 1, 'gone@elsewhere', 1
            FROM served_plans WHERE plan_name = 'news_report'
            """, database: database)
        let refused = try await HTTP.request(replica.port, "POST", "/v1/plans/news_report/runs", headers: Admission.alice, json: Admission.inputs)
        #expect(refused.status == 429, "\(refused.text)")
        #expect(refused.json?["error"]?.stringValue?.contains("per-user limit") == true, "\(refused.text)")

        _ = try await Replicas.psql("UPDATE runs SET plan_hash = 'a version nobody serves' WHERE id = 'run_stuck'", database: database)
        let admitted = try await HTTP.request(replica.port, "POST", "/v1/plans/news_report/runs", headers: Admission.alice, json: Admission.inputs)
        #expect(admitted.status == 202, "\(admitted.text)")

        _ = try await Replicas.psql("""
            INSERT INTO runs (id, plan_name, plan_path, plan_hash, inputs, options, user_name, status, created_at, updated_at, owner, lease_expires_at)
            VALUES ('run_other_version', 'news_report', 'news_report.json', 'a version nobody serves', '{"task": "x"}', '{"origin": "server"}',
                'bob', 'running', 1, 1, 'gone@elsewhere', 1)
            """, database: database)
        var left = false
        for _ in 0..<400 where !left {
            left = replica.stderr.contains("run run_other_version was not resumed here: this replica serves another version of 'news_report'")
            if !left { try await Task.sleep(for: .milliseconds(25)) }
        }
        #expect(left, "\(replica.stderr)")
        #expect(try await Replicas.psql("SELECT status || ' ' || owner FROM runs WHERE id = 'run_other_version'", database: database) == "running gone@elsewhere")
    }

    /// A `--no-resume` replica claims queued runs but takes nothing over: it records the plan
    /// versions it serves as claimed only (`takes_over` false), so at `--runs-per-user 1` an
    /// interrupted run of its own version does not hold alice's place (no replica would take
    /// it over), and a queued run of a version no replica serves does not hold bob's.
    @Test func aReplicaThatOnlyClaimsMakesOnlyQueuedRunsCount() async throws {
        let (url, database) = try await Replicas.newDatabase()
        let home = Replicas.scratchHome()
        defer { Replicas.remove(home) }
        let replica = try await ServeProcess(
            home: home, delayMilliseconds: 100, arguments: ["--runs-per-user", "1", "--no-resume"],
            environment: ["SLUICE_STORE": url, "SLUICE_API_KEYS": Admission.keys, "SLUICE_STORE_LEASE": "3s"])
        defer { replica.terminate() }
        var served = ""
        for _ in 0..<400 where served.isEmpty {
            served = try await Replicas.psql("SELECT takes_over FROM served_plans WHERE plan_name = 'news_report'", database: database)
            try await Task.sleep(for: .milliseconds(25))
        }
        #expect(served == "f", "the replica never said it claims news_report's runs (\(served))")
        _ = try await Replicas.psql("""
            INSERT INTO runs (id, plan_name, plan_path, plan_hash, inputs, options, user_name, status, created_at, updated_at, owner, lease_expires_at)
            SELECT 'run_stuck', plan_name, 'news_report.json', plan_hash, '{}', '{}', 'alice', 'running', 1, 1, 'gone@elsewhere', 1
            FROM served_plans WHERE plan_name = 'news_report'
            """, database: database)
        let alices = try await HTTP.request(replica.port, "POST", "/v1/plans/news_report/runs", headers: Admission.alice, json: Admission.inputs)
        #expect(alices.status == 202, "\(alices.text)")

        _ = try await Replicas.psql("""
            INSERT INTO runs (id, plan_name, plan_path, plan_hash, inputs, options, user_name, status, created_at, updated_at, queued)
            VALUES ('run_queued_elsewhere', 'news_report', 'news_report.json', 'a version nobody serves', '{"task": "x"}', '{"origin": "server"}',
                'bob', 'running', 1, 1, TRUE)
            """, database: database)
        let bobs = try await HTTP.request(replica.port, "POST", "/v1/plans/news_report/runs", headers: Admission.bob, json: Admission.inputs)
        #expect(bobs.status == 202, "\(bobs.text)")
        #expect(try await Replicas.psql("SELECT queued FROM runs WHERE id = 'run_queued_elsewhere'", database: database) == "t")
    }

    /// A queued run of a plan version no replica serves (its receiver stopped, the deploy
    /// changed the plan): with `SLUICE_QUEUE_UNSERVED_TIMEOUT=1s` the replica's claim loop ends
    /// it with `run.failed` (`plan_not_served`), and a client following its events gets that
    /// end instead of waiting for ever.
    @Test func aQueuedRunNobodyServesEndsForItsFollower() async throws {
        let (url, database) = try await Replicas.newDatabase()
        let home = Replicas.scratchHome()
        defer { Replicas.remove(home) }
        let replica = try await ServeProcess(
            home: home, delayMilliseconds: 0,
            environment: ["SLUICE_STORE": url, "SLUICE_QUEUE_UNSERVED_TIMEOUT": "1s", "SLUICE_STORE_FOLLOW_POLL": "0.2s"])
        defer { replica.terminate() }
        _ = try await Replicas.psql("""
            INSERT INTO runs (id, plan_name, plan_path, plan_hash, inputs, options, user_name, status, created_at, updated_at, queued)
            VALUES ('run_orphan', 'news_report', 'news_report.json', 'a version nobody serves', '{"task": "x"}', '{"origin": "server"}',
                'anonymous', 'running', 1, 1, TRUE)
            """, database: database)
        let (head, reader, _) = try await HTTP.sse(replica.port, "GET", "/v1/runs/run_orphan/events")
        #expect(head.status == 200)
        var seen: [ReceivedSSE] = []
        while let event = await reader.next() {
            seen.append(event)
            if event.data.contains("plan_not_served") { break }
        }
        let end = try #require(seen.last, "no event came: \(replica.stderr)")
        #expect(end.data.contains(#""status":"failed""#) && end.data.contains(#""error_type":"plan_not_served""#), "\(end.data)")
        let run = try await HTTP.request(replica.port, "GET", "/v1/runs/run_orphan")
        #expect(run.json?["status"] == "failed", "\(run.text)")
        #expect(replica.stderr.contains("queued run run_orphan failed: no replica serving its plan version took it"), "\(replica.stderr)")
    }
}
