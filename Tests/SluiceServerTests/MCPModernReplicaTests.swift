import Foundation
import SluiceJSON
import SluiceTesting
import Testing

/// MCP 2026-07-28 against two real `sluice serve` replicas on one PostgreSQL store, sharing
/// `SLUICE_MCP_STATE_SECRET` and the API keys, as a load balancer without sticky sessions
/// would use them: a task made on one replica is followed, answered and read on the other;
/// an input request asked by one is answered through the other; nobody else sees either.
///
/// A run that asks is parked in the store as `waiting` (owned by nobody) while both replicas
/// live, so either one sees the question and either one resumes it with the answer.
@Suite(
    .serialized, .timeLimit(.minutes(5)),
    .enabled(if: PostgresCluster.available, "PostgreSQL is not installed (CI installs it)"))
struct MCPModernReplicaTests {
    static let keys = "key-alice:alice,key-bob:bob"
    static let alice = "key-alice"
    static let bob = "key-bob"

    /// One 2026-07-28 request to `port` as the user of `key`, answered as JSON.
    static func request(
        _ port: Int, _ method: String, _ params: JSONObject, id: Int, key: String = alice, capabilities: JSONValue = MCPModernRestartTests.tasks
    ) async throws -> JSONValue {
        let body: JSONValue = [
            "jsonrpc": "2.0", "id": .integer(Int64(id)), "method": .string(method),
            "params": MCPTestClient.modernParams(params, capabilities: capabilities),
        ]
        var headers = HTTPTransport.modernHeaders(for: body)
        headers["Accept"] = "application/json"
        headers["Authorization"] = "Bearer \(key)"
        let answer = try await HTTP.request(port, "POST", "/mcp", headers: headers, json: body)
        return try #require(answer.json, "status \(answer.status): \(answer.text)")
    }

    static func poll(_ port: Int, _ taskID: String, until done: (JSONValue) -> Bool) async throws -> JSONValue {
        var last = JSONValue.null
        for attempt in 0..<1500 {
            last = try await request(port, "tasks/get", ["taskId": .string(taskID)], id: 100 + attempt)
            if let result = last["result"], done(result) { return result }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw MCPTestClient.Failure(description: "task \(taskID) never got there on port \(port); last: \(last.serialized(pretty: false).prefix(400))")
    }

    static func replicas(_ url: String, homes: [String]) async throws -> [ServeProcess] {
        var servers: [ServeProcess] = []
        for home in homes {
            servers.append(
                try await ServeProcess(
                    home: home, delayMilliseconds: 0,
                    environment: ["SLUICE_STORE": url, "SLUICE_MCP_STATE_SECRET": "one secret shared by every replica", "SLUICE_API_KEYS": keys]))
        }
        return servers
    }

    @Test func aTaskMadeOnOneReplicaIsFollowedAndAnsweredOnTheOther() async throws {
        let (url, _) = try await PostgresReplicaProcessTests.newDatabase()
        let homes = [PostgresReplicaProcessTests.scratchHome(), PostgresReplicaProcessTests.scratchHome()]
        defer { homes.forEach(PostgresReplicaProcessTests.remove) }
        let servers = try await Self.replicas(url, homes: homes)
        defer { servers.forEach { $0.stop() } }
        let (first, second) = (servers[0].port, servers[1].port)

        // A task that needs no answer: made on the first, read to its end on the second.
        let quick = try await Self.request(first, "tools/call", ["name": "news_report", "arguments": ["task": "AI agents"]], id: 1)
        #expect(quick["result"]?["resultType"] == "task", "\(quick.serialized(pretty: false).prefix(300))")
        let quickID = try #require(quick["result"]?["taskId"]?.stringValue)
        let finished = try await Self.poll(second, quickID) { ["completed", "failed", "cancelled"].contains($0["status"]?.stringValue ?? "") }
        #expect(finished["status"] == "completed", "\(finished.serialized(pretty: false).prefix(300))")
        #expect(finished["result"]?["structuredContent"] != nil)

        // Another user asks either replica about it: it does not exist for them.
        let stranger = try await Self.request(second, "tasks/get", ["taskId": .string(quickID)], id: 2, key: Self.bob)
        #expect(stranger["error"] != nil && stranger["result"] == nil, "\(stranger.serialized(pretty: false).prefix(300))")

        // A task that waits on its confirm step: asked on the first, answered on the second.
        let asking = try await Self.request(first, "tools/call", MCPModernRestartTests.call, id: 3)
        let waitingID = try #require(asking["result"]?["taskId"]?.stringValue)
        let waiting = try await Self.poll(second, waitingID) { $0["status"] == "input_required" }
        #expect(waiting["inputRequests"]?["approve_outline"] != nil, "\(waiting.serialized(pretty: false).prefix(300))")
        let ack = try await Self.request(
            second, "tasks/update", ["taskId": .string(waitingID), "inputResponses": ["approve_outline": ["action": "accept", "content": ["approve": true]]]], id: 4)
        #expect(ack["result"] != nil, "\(ack.serialized(pretty: false).prefix(300))")
        let done = try await Self.poll(first, waitingID) { ["completed", "failed", "cancelled"].contains($0["status"]?.stringValue ?? "") }
        #expect(done["status"] == "completed", "\(done.serialized(pretty: false).prefix(300))\n\(servers[0].stderr)\n\(servers[1].stderr)")
        // The replica that asked says what the store says, not what it last saw itself.
        let rest = try await HTTP.request(first, "GET", "/v1/runs/\(waitingID)", headers: ["Authorization": "Bearer \(Self.alice)"])
        #expect(rest.json?["status"] == "completed", "\(rest.text.prefix(300))")
    }

    @Test func anInputRequestAskedByOneReplicaIsAnsweredThroughTheOther() async throws {
        let (url, _) = try await PostgresReplicaProcessTests.newDatabase()
        let homes = [PostgresReplicaProcessTests.scratchHome(), PostgresReplicaProcessTests.scratchHome()]
        defer { homes.forEach(PostgresReplicaProcessTests.remove) }
        let servers = try await Self.replicas(url, homes: homes)
        defer { servers.forEach { $0.stop() } }
        let (first, second) = (servers[0].port, servers[1].port)

        var call = MCPModernRestartTests.call
        let asked = try await Self.request(first, "tools/call", call, id: 1, capabilities: MCPModernRestartTests.elicitation)
        #expect(asked["result"]?["resultType"] == "input_required", "\(asked.serialized(pretty: false).prefix(400))")
        let state = try #require(asked["result"]?["requestState"]?.stringValue)
        call["requestState"] = .string(state)
        call["inputResponses"] = ["approve_outline": ["action": "accept", "content": ["approve": true]]]

        // Bob cannot use Alice's state on either replica.
        let stolen = try await Self.request(second, "tools/call", call, id: 2, key: Self.bob, capabilities: MCPModernRestartTests.elicitation)
        #expect(stolen["result"]?["resultType"] != "complete", "\(stolen.serialized(pretty: false).prefix(300))")

        let done = try await Self.request(second, "tools/call", call, id: 3, capabilities: MCPModernRestartTests.elicitation)
        #expect(done["result"]?["resultType"] == "complete", "\(done.serialized(pretty: false).prefix(600))")
        #expect(done["result"]?["isError"] == false)
        #expect(done["result"]?["structuredContent"] != nil)
        // Once only, on any replica.
        #expect(try await Self.request(first, "tools/call", call, id: 4, capabilities: MCPModernRestartTests.elicitation)["error"]?["code"] == -32602)
    }
}
