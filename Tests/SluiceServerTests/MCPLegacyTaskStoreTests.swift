import Foundation
import SluiceJSON
import SluiceTesting
import Testing

/// MCP 2025-11-25 tasks (session-based) kept in the store: a task made on one `sluice serve`
/// is polled, answered and read on another sharing the PostgreSQL store, or on the same one
/// after `kill -9` and a restart (SQLite). Its `confirm` question is an `elicitation/create`
/// whose answer any process resumes the run with; nobody else sees the task.
@Suite(.serialized, .timeLimit(.minutes(5))) struct MCPLegacyTaskStoreTests {
    static let asking: JSONObject = ["name": "news_report", "arguments": ["task": "AI agents", "auto_confirm": false], "task": ["ttl": 600_000]]
    static let quick: JSONObject = ["name": "news_report", "arguments": ["task": "AI agents", "auto_confirm": true], "task": ["ttl": 600_000]]
    static let approve: JSONValue = ["action": "accept", "content": ["approve": true]]

    /// A 2025-11-25 client of an existing session on `port` (another replica, or a restarted server).
    static func client(_ port: Int, session: String, key: String? = nil) -> (MCPTestClient, HTTPTransport) {
        var headers = ["MCP-Session-Id": session, "MCP-Protocol-Version": "2025-11-25"]
        if let key { headers["Authorization"] = "Bearer \(key)" }
        let transport = HTTPTransport(port: port, headers: headers)
        return (MCPTestClient(transport), transport)
    }

    /// A new session on `port` that declares elicitation.
    static func newSession(_ port: Int, key: String? = nil) async throws -> (MCPTestClient, HTTPTransport, String) {
        let transport = HTTPTransport(port: port, headers: key.map { ["Authorization": "Bearer \($0)"] } ?? [:])
        let client = MCPTestClient(transport)
        try await client.initialize(capabilities: ["elicitation": .object(JSONObject())])
        try await client.notify("notifications/initialized")
        return (client, transport, try #require(transport.sessionID))
    }

    static func makeTask(_ client: MCPTestClient, _ params: JSONObject) async throws -> String {
        let created = try await client.request("tools/call", .object(params))
        #expect(created["result"]?["task"]?["status"] == "working" || created["result"]?["task"]?["status"] == "input_required", "\(created.serialized(pretty: false).prefix(300))")
        return try #require(created["result"]?["task"]?["taskId"]?.stringValue, "\(created.serialized(pretty: false).prefix(300))")
    }

    static func poll(_ client: MCPTestClient, _ taskID: String, until statuses: Set<String>) async throws -> JSONValue {
        var last = JSONValue.null
        for _ in 0..<1500 {
            last = try await client.request("tasks/get", ["taskId": .string(taskID)])
            if let status = last["result"]?["status"]?.stringValue, statuses.contains(status) { return last["result"] ?? .null }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw MCPTestClient.Failure(description: "task \(taskID) never got to \(statuses); last: \(last.serialized(pretty: false).prefix(400))")
    }

    @Test func aTaskOutlivesTheServer() async throws {
        let home = ServerRestartProcessTests.scratchHome()
        defer { ServerRestartProcessTests.remove(home) }
        let first = try await ServeProcess(home: home, delayMilliseconds: 0)
        let (client, _, session) = try await Self.newSession(first.port)
        let done = try await Self.makeTask(client, Self.quick)
        _ = try await Self.poll(client, done, until: ["completed"])
        let waiting = try await Self.makeTask(client, Self.asking)
        let asked = try await Self.poll(client, waiting, until: ["input_required"])
        #expect(asked["ttl"] == 600_000)
        await first.kill()

        let second = try await ServeProcess(home: home, delayMilliseconds: 0)
        defer { second.terminate() }
        let (again, _) = Self.client(second.port, session: session)
        #expect(try await again.request("tasks/get", ["taskId": .string(waiting)])["result"]?["status"] == "input_required")
        let listed = try await again.request("tasks/list")
        #expect(listed["result"]?["tasks"]?.arrayValue?.compactMap { $0["taskId"]?.stringValue } == [done, waiting], "\(listed.serialized(pretty: false).prefix(400))")
        let finished = try await again.request("tasks/result", ["taskId": .string(done)])
        #expect(finished["result"]?["isError"] == false && finished["result"]?["structuredContent"] != nil, "\(finished.serialized(pretty: false).prefix(300))")
        #expect(finished["result"]?["_meta"]?["io.modelcontextprotocol/related-task"]?["taskId"]?.stringValue == done)

        // Another session of the same user does not see the task, nor can it cancel it.
        let (stranger, _, _) = try await Self.newSession(second.port)
        #expect(try await stranger.request("tasks/get", ["taskId": .string(waiting)])["error"]?["code"] == -32602)
        #expect(try await stranger.request("tasks/cancel", ["taskId": .string(waiting)])["error"]?["code"] == -32602)
        #expect(try await stranger.request("tasks/list")["result"]?["tasks"]?.arrayValue?.isEmpty == true)

        // tasks/result on the restarted server asks the question again, on its own stream;
        // the answer resumes the run and the result follows.
        await again.setAnswer { method, _ in method == "elicitation/create" ? Self.approve : nil }
        let result = try await again.request("tasks/result", ["taskId": .string(waiting)])
        #expect(result["result"]?["isError"] == false && result["result"]?["structuredContent"] != nil, "\(result.serialized(pretty: false).prefix(400))\n\(second.stderr)")
        let question = try #require(await again.serverRequests.first { $0["method"] == "elicitation/create" })
        #expect(question["params"]?["_meta"]?["io.modelcontextprotocol/related-task"]?["taskId"]?.stringValue == waiting)
        #expect(try await again.request("tasks/get", ["taskId": .string(waiting)])["result"]?["status"] == "completed")
    }

    @Test func aTaskAnswersAtOnceWhileTheServerIsFull() async throws {
        let home = ServerRestartProcessTests.scratchHome()
        defer { ServerRestartProcessTests.remove(home) }
        let server = try await ServeProcess(home: home, delayMilliseconds: 30, arguments: ["--max-runs", "1"])
        defer { server.terminate() }
        let (client, _, _) = try await Self.newSession(server.port)
        let running = try await Self.makeTask(client, Self.quick)
        // No place for these while `running` runs: both revisions hand out their task anyway,
        // recorded in the store, and the runs wait for the place.
        let waiting = try await Self.makeTask(client, Self.quick)
        let modern = try await MCPModernRestartTests.request(
            server.port, "tools/call", ["name": "news_report", "arguments": ["task": "AI agents", "auto_confirm": true]], id: 50,
            capabilities: MCPModernRestartTests.tasks)
        #expect(modern["result"]?["resultType"] == "task", "\(modern.serialized(pretty: false).prefix(300))")
        let modernID = try #require(modern["result"]?["taskId"]?.stringValue)
        #expect(try await client.request("tasks/get", ["taskId": .string(running)])["result"]?["status"] == "working")
        #expect(try await client.request("tasks/get", ["taskId": .string(waiting)])["result"]?["status"] == "working")
        #expect(try await HTTP.request(server.port, "GET", "/v1/runs/\(modernID)").json?["status"] == "running")
        // Each runs once a place frees.
        for task in [running, waiting] {
            #expect(try await Self.poll(client, task, until: ["completed", "failed", "cancelled"])["status"] == "completed")
        }
        var done = false
        for attempt in 0..<1500 where !done {
            let task = try await MCPModernRestartTests.request(server.port, "tasks/get", ["taskId": .string(modernID)], id: 100 + attempt, capabilities: MCPModernRestartTests.tasks)
            done = task["result"]?["status"] == "completed"
            if !done { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(done, "\(server.stderr)")
    }

    @Test func aTaskWaitingForAPlaceOutlivesTheServer() async throws {
        let home = ServerRestartProcessTests.scratchHome()
        defer { ServerRestartProcessTests.remove(home) }
        let first = try await ServeProcess(home: home, delayMilliseconds: 30, arguments: ["--max-runs", "1"])
        let (client, _, session) = try await Self.newSession(first.port)
        _ = try await Self.makeTask(client, Self.quick)
        let waiting = try await Self.makeTask(client, Self.quick)
        await first.kill()
        // Started again, it runs the task that never had a place (from its start: no event yet).
        let second = try await ServeProcess(home: home, delayMilliseconds: 0)
        defer { second.terminate() }
        let (again, _) = Self.client(second.port, session: session)
        let done = try await Self.poll(again, waiting, until: ["completed", "failed", "cancelled"])
        #expect(done["status"] == "completed", "\(done.serialized(pretty: false).prefix(300))\n\(second.stderr)")
    }

    @Test func cancellingAWaitingTaskEndsItInTheStore() async throws {
        let home = ServerRestartProcessTests.scratchHome()
        defer { ServerRestartProcessTests.remove(home) }
        let server = try await ServeProcess(home: home, delayMilliseconds: 0)
        defer { server.terminate() }
        let (client, _, _) = try await Self.newSession(server.port)
        let waiting = try await Self.makeTask(client, Self.asking)
        _ = try await Self.poll(client, waiting, until: ["input_required"])
        let cancelled = try await client.request("tasks/cancel", ["taskId": .string(waiting)])
        #expect(cancelled["result"]?["status"] == "cancelled")
        #expect(try await client.request("tasks/get", ["taskId": .string(waiting)])["result"]?["status"] == "cancelled")
        #expect(try await client.request("tasks/cancel", ["taskId": .string(waiting)])["error"]?["code"] == -32602)
        let rest = try await HTTP.request(server.port, "GET", "/v1/runs/\(waiting)")
        #expect(rest.json?["status"] == "cancelled", "\(rest.text.prefix(300))")

        // A task is kept for its TTL once it has ended, then it is gone.
        var shortLived = Self.quick
        shortLived["task"] = ["ttl": 1]
        let brief = try await Self.makeTask(client, shortLived)
        var ended = false
        for _ in 0..<1500 where !ended {
            ended = try await HTTP.request(server.port, "GET", "/v1/runs/\(brief)").json?["status"] == "completed"
            if !ended { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(ended)
        try await Task.sleep(for: .milliseconds(20))
        #expect(try await client.request("tasks/get", ["taskId": .string(brief)])["error"]?["code"] == -32602)
        #expect(try await client.request("tasks/list")["result"]?["tasks"]?.arrayValue?.compactMap { $0["taskId"]?.stringValue } == [waiting])
    }

    /// `DELETE /mcp` of the session a plain call belongs to, while the call's run waits in the
    /// store at its question: the run is cancelled in the store before the `204` (as
    /// `tasks/cancel` ends a waiting task), not left for the call's next look.
    @Test func endingTheSessionCancelsItsParkedCallInTheStore() async throws {
        let home = ServerRestartProcessTests.scratchHome()
        defer { ServerRestartProcessTests.remove(home) }
        let server = try await ServeProcess(home: home, delayMilliseconds: 0)
        defer { server.terminate() }
        let (client, _, session) = try await Self.newSession(server.port)
        _ = try await client.start("tools/call", ["name": "news_report", "arguments": ["task": "AI agents", "auto_confirm": false]])
        let question = try await client.waitFor { $0["method"] == "elicitation/create" }
        // `sluice-ask:<run id>:<seq>`: the run waits in the store.
        let parts = try #require(question["id"]?.stringValue).split(separator: ":")
        let runID = String(try #require(parts.dropFirst().first))
        #expect(try await HTTP.request(server.port, "GET", "/v1/runs/\(runID)").json?["status"] == "waiting")

        #expect(try await HTTP.request(server.port, "DELETE", "/mcp", headers: ["MCP-Session-Id": session]).status == 204)
        let ended = try await HTTP.request(server.port, "GET", "/v1/runs/\(runID)")
        #expect(ended.json?["status"] == "cancelled", "\(ended.text.prefix(300))")
    }
}

/// The same across two replicas on one PostgreSQL store, as a load balancer without sticky
/// sessions spreads a 2025-11-25 client's requests.
@Suite(
    .serialized, .timeLimit(.minutes(2)),
    .enabled(if: PostgresCluster.available, "PostgreSQL is not installed (CI installs it)"))
struct MCPLegacyTaskReplicaTests {
    @Test func aTaskAskedOnOneReplicaIsAnsweredAndPolledOnTheOther() async throws {
        let (url, _) = try await PostgresReplicaProcessTests.newDatabase()
        let homes = [PostgresReplicaProcessTests.scratchHome(), PostgresReplicaProcessTests.scratchHome()]
        defer { homes.forEach(PostgresReplicaProcessTests.remove) }
        let servers = try await MCPModernReplicaTests.replicas(url, homes: homes)
        defer { servers.forEach { $0.terminate() } }
        let alice = MCPModernReplicaTests.alice

        // Made on A, whose GET stream carries the question of the run parked there.
        let (onA, transportA, session) = try await MCPLegacyTaskStoreTests.newSession(servers[0].port, key: alice)
        _ = try await transportA.openGET()
        let taskID = try await MCPLegacyTaskStoreTests.makeTask(onA, MCPLegacyTaskStoreTests.asking)
        let question = try await onA.waitFor { $0["method"] == "elicitation/create" }
        #expect(question["params"]?["_meta"]?["io.modelcontextprotocol/related-task"]?["taskId"]?.stringValue == taskID)
        let questionID = try #require(question["id"])

        // Polled on B; Bob, with Alice's session id, gets nothing on B.
        let (onB, transportB) = MCPLegacyTaskStoreTests.client(servers[1].port, session: session, key: alice)
        #expect(try await MCPLegacyTaskStoreTests.poll(onB, taskID, until: ["input_required"])["taskId"]?.stringValue == taskID)
        let refused = try await HTTP.request(
            servers[1].port, "POST", "/mcp",
            headers: [
                "Authorization": "Bearer \(MCPModernReplicaTests.bob)", "MCP-Session-Id": session, "MCP-Protocol-Version": "2025-11-25",
                "Accept": "application/json, text/event-stream",
            ],
            json: ["jsonrpc": "2.0", "id": 9, "method": "tasks/get", "params": ["taskId": .string(taskID)]])
        #expect(refused.status == 404 && refused.json?["result"] == nil, "\(refused.status) \(refused.text.prefix(300))")

        // The answer to A's question goes to B: B resumes the run; A sees it end.
        try await transportB.send(["jsonrpc": "2.0", "id": questionID, "result": MCPLegacyTaskStoreTests.approve])
        #expect(transportB.statuses.last == 202)
        let done = try await MCPLegacyTaskStoreTests.poll(onA, taskID, until: ["completed", "failed", "cancelled"])
        #expect(done["status"] == "completed", "\(done.serialized(pretty: false).prefix(300))\n\(servers[0].stderr)\n\(servers[1].stderr)")
        let result = try await onB.request("tasks/result", ["taskId": .string(taskID)])
        #expect(result["result"]?["structuredContent"] != nil, "\(result.serialized(pretty: false).prefix(300))")

        // A task whose asking replica is killed: B asks again through tasks/result.
        let second = try await MCPLegacyTaskStoreTests.makeTask(onA, MCPLegacyTaskStoreTests.asking)
        _ = try await MCPLegacyTaskStoreTests.poll(onB, second, until: ["input_required"])
        await servers[0].kill()
        await onB.setAnswer { method, _ in method == "elicitation/create" ? MCPLegacyTaskStoreTests.approve : nil }
        let resumed = try await onB.request("tasks/result", ["taskId": .string(second)])
        #expect(resumed["result"]?["isError"] == false && resumed["result"]?["structuredContent"] != nil, "\(resumed.serialized(pretty: false).prefix(400))\n\(servers[1].stderr)")
    }
    @Test func aPlainCallsQuestionIsAnsweredThroughTheOtherReplica() async throws {
        let (url, _) = try await PostgresReplicaProcessTests.newDatabase()
        let homes = [PostgresReplicaProcessTests.scratchHome(), PostgresReplicaProcessTests.scratchHome()]
        defer { homes.forEach(PostgresReplicaProcessTests.remove) }
        let servers = try await MCPModernReplicaTests.replicas(url, homes: homes)
        defer { servers.forEach { $0.terminate() } }
        let alice = MCPModernReplicaTests.alice

        // The call streams on A; its question comes on the call's own stream.
        let (onA, _, session) = try await MCPLegacyTaskStoreTests.newSession(servers[0].port, key: alice)
        let call = try await onA.start("tools/call", ["name": "news_report", "arguments": ["task": "AI agents", "auto_confirm": false]])
        let question = try await onA.waitFor { $0["method"] == "elicitation/create" }
        #expect(question["params"]?["_meta"] == nil)
        let questionID = try #require(question["id"])

        // Bob cannot answer it, even with Alice's session id: his POST is refused.
        let bobs = try await HTTP.request(
            servers[1].port, "POST", "/mcp",
            headers: ["Authorization": "Bearer \(MCPModernReplicaTests.bob)", "MCP-Session-Id": session, "Accept": "application/json, text/event-stream"],
            json: ["jsonrpc": "2.0", "id": questionID, "result": MCPLegacyTaskStoreTests.approve])
        #expect(bobs.status == 404)

        // Alice's answer reaches B; the call on A goes on and answers there.
        let (_, transportB) = MCPLegacyTaskStoreTests.client(servers[1].port, session: session, key: alice)
        try await transportB.send(["jsonrpc": "2.0", "id": questionID, "result": MCPLegacyTaskStoreTests.approve])
        #expect(transportB.statuses.last == 202)
        let response = try await onA.response(to: call)
        #expect(response["result"]?["isError"] == false && response["result"]?["structuredContent"] != nil, "\(response.serialized(pretty: false).prefix(400))\n\(servers[0].stderr)\n\(servers[1].stderr)")
        // Its progress went on on A's stream after the answer.
        let after = await onA.notifications.filter { $0["method"] == "notifications/message" }
        #expect(!after.isEmpty)
    }
}
