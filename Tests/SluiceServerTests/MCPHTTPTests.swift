import Foundation
import SluiceJSON
import Testing
@testable import SluiceServer

/// MCP streamable HTTP at /mcp over real sockets.
@Suite(.timeLimit(.minutes(3))) struct MCPHTTPTests {
    static let ping: JSONValue = ["jsonrpc": "2.0", "id": 7, "method": "ping"]

    @Test func sessionsOriginsAndVersionsAreEnforced() async throws {
        try await ServerHarness.withServer { port, _ in
            let transport = HTTPTransport(port: port)
            let client = MCPTestClient(transport)
            let result = try await client.initialize(version: "2025-06-18")
            #expect(result["protocolVersion"] == "2025-06-18")
            let session = try #require(transport.sessionID)
            #expect(session.utf8.allSatisfy { $0 >= 0x21 && $0 <= 0x7E })
            #expect(transport.statuses == [200, 202], "initialize answers JSON, the initialized notification 202")

            let accept = ["Accept": "application/json, text/event-stream"]
            #expect(try await HTTP.request(port, "POST", "/mcp", headers: accept, json: Self.ping).status == 400)
            #expect(try await HTTP.request(port, "POST", "/mcp", headers: accept.merging(["MCP-Session-Id": "nope"]) { $1 }, json: Self.ping).status == 404)
            let evil = try await HTTP.request(port, "POST", "/mcp", headers: accept.merging(["MCP-Session-Id": session, "Origin": "https://evil.example"]) { $1 }, json: Self.ping)
            #expect(evil.status == 403)
            #expect(evil.json?["error"] != nil && evil.json?["id"] == .null)
            let local = try await HTTP.request(port, "POST", "/mcp", headers: accept.merging(["MCP-Session-Id": session, "Origin": "http://localhost:3000"]) { $1 }, json: Self.ping)
            #expect(local.status == 200)
            #expect(local.json?["result"] == .object(JSONObject()))
            #expect(try await HTTP.request(port, "POST", "/mcp", headers: accept.merging(["MCP-Session-Id": session, "MCP-Protocol-Version": "1999-01-01"]) { $1 }, json: Self.ping).status == 400)
            #expect(try await HTTP.request(port, "POST", "/mcp", headers: accept.merging(["MCP-Session-Id": session]) { $1 }, json: [Self.ping]).status == 400, "batches are refused")

            let tools = try await client.request("tools/list")
            let names = tools["result"]?["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            #expect(names.contains("news_report") && names.contains(MCPServer.orchestratorToolName))
            let news = try #require(tools["result"]?["tools"]?.arrayValue?.first { $0["name"] == "news_report" })
            #expect(news["inputSchema"]?["type"] == "object")
            #expect(news["outputSchema"]?["type"] == "object")
            #expect(news["annotations"]?["readOnlyHint"] != nil)

            #expect(try await HTTP.request(port, "DELETE", "/mcp", headers: ["MCP-Session-Id": session]).status == 204)
            #expect(try await HTTP.request(port, "POST", "/mcp", headers: accept.merging(["MCP-Session-Id": session]) { $1 }, json: Self.ping).status == 404)
            await client.close()
        }
    }

    @Test func aCallStreamsItsNotificationsOnItsOwnStream() async throws {
        try await ServerHarness.withServer { port, _ in
            let transport = HTTPTransport(port: port)
            let client = MCPTestClient(transport)
            try await client.initialize()
            // No GET stream is ever opened: everything must come on the POST's own SSE stream.
            let response = try await client.request("tools/call", [
                "name": "ask", "arguments": ["auto_confirm": true], "_meta": ["progressToken": 5],
            ])
            #expect(response["result"]?["isError"] == false)
            let notifications = await client.notifications
            #expect(notifications.contains { $0["method"] == "notifications/message" })
            let progress = notifications.filter { $0["method"] == "notifications/progress" }.compactMap { $0["params"]?["progress"]?.doubleValue }
            #expect(!progress.isEmpty && zip(progress, progress.dropFirst()).allSatisfy { $0 < $1 })
            // Event ids are `<stream>_<n>`: the priming event first, numbered without gaps.
            let ids = transport.lastEventIDs
            #expect(ids.first == "1_1")
            #expect(ids == (1...ids.count).map { "1_\($0)" })
            await client.close()
        }
    }

    @Test func aDroppedStreamResumesWithLastEventID() async throws {
        try await ServerHarness.withServer { port, _ in
            let transport = HTTPTransport(port: port)
            let client = MCPTestClient(transport)   // answers nothing yet
            try await client.initialize(capabilities: ["elicitation": .object(JSONObject())])
            let call = try await client.start("tools/call", ["name": "ask", "arguments": ["topic": "sluice gates"]])
            let asked = try await client.waitFor { $0["method"] == "elicitation/create" }
            let seen = try #require(transport.lastEventIDs.last)
            transport.dropStreams()
            // Answer the elicitation (a response: 202), then resume the call's stream.
            try await transport.send(["jsonrpc": "2.0", "id": try #require(asked["id"]), "result": ["action": "accept", "content": ["approve": true]]])
            #expect(transport.statuses.last == 202)
            let head = try await transport.openGET(lastEventID: seen)
            #expect(head.status == 200)
            let response = try await client.response(to: call)
            #expect(response["result"]?["isError"] == false)
            #expect(response["result"]?["structuredContent"]?["title"] != nil)
            let unknown = try await HTTP.request(port, "GET", "/mcp", headers: ["Accept": "text/event-stream", "MCP-Session-Id": try #require(transport.sessionID), "Last-Event-ID": "99_1"])
            #expect(unknown.status == 400)
            await client.close()
        }
    }

    @Test func deletingTheSessionCancelsItsRun() async throws {
        try await ServerHarness.withServer { port, server in
            let transport = HTTPTransport(port: port)
            let client = MCPTestClient(transport)
            try await client.initialize(capabilities: ["elicitation": .object(JSONObject())])
            _ = try await client.start("tools/call", ["name": "ask", "arguments": .object(JSONObject())])
            _ = try await client.waitFor { $0["method"] == "elicitation/create" }
            let record = try #require(server.mcp.runs.registry.runs(user: "anonymous").first)
            #expect(record.status == .running)
            let deleted = try await HTTP.request(port, "DELETE", "/mcp", headers: ["MCP-Session-Id": try #require(transport.sessionID)])
            #expect(deleted.status == 204)
            let result = await record.waitForResult()
            #expect(result.status == .cancelled)
            await client.close()
        }
    }

    @Test func tasksAndCancellationOverHTTP() async throws {
        try await ServerHarness.withServer { port, server in
            let transport = HTTPTransport(port: port)
            let client = MCPTestClient(transport)
            try await client.initialize(capabilities: ["elicitation": .object(JSONObject())])
            _ = try await transport.openGET()
            let created = try await client.request("tools/call", ["name": "ask", "arguments": .object(JSONObject()), "task": ["ttl": 1000]])
            let taskID = try #require(created["result"]?["task"]?["taskId"]?.stringValue)
            // The task's elicitation comes on the GET stream, tied to the task.
            let asked = try await client.waitFor { $0["method"] == "elicitation/create" }
            #expect(asked["params"]?["_meta"]?["io.modelcontextprotocol/related-task"]?["taskId"]?.stringValue == taskID)
            let cancelled = try await client.request("tasks/cancel", ["taskId": .string(taskID)])
            #expect(cancelled["result"]?["status"] == "cancelled")
            let record = try #require(server.mcp.runs.registry.run(id: taskID))
            #expect(await record.waitForResult().status == .cancelled)

            // notifications/cancelled over HTTP stops a plain call too.
            let call = try await client.start("tools/call", ["name": "ask", "arguments": .object(JSONObject())])
            _ = try await client.waitFor { $0["method"] == "elicitation/create" && $0["params"]?["_meta"] == nil }
            try await client.notify("notifications/cancelled", ["requestId": .integer(Int64(call))])
            let second = try #require(server.mcp.runs.registry.runs(user: "anonymous").first { $0.id != taskID })
            #expect(await second.waitForResult().status == .cancelled)
            await client.close()
        }
    }
}
