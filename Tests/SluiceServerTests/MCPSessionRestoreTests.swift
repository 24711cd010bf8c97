import Foundation
import SluiceJSON
@testable import SluiceServer
import SluiceStore
import Testing

/// With a durable store, an MCP session outlives its server: a new server on the same store
/// takes up the old `MCP-Session-Id` as negotiated, renders a kept call stream again from the
/// run's stored events (the same events under the same ids, then the response), hands out
/// stream ids the old server never used, and forgets a session the client ended.
@Suite(.serialized, .timeLimit(.minutes(2))) struct MCPSessionRestoreTests {
    static let accept = ["Accept": "application/json, text/event-stream"]

    static func durableExecutor(_ folder: String) throws -> DurableRunExecutor {
        DurableRunExecutor(engine: try ServerHarness.engineExecutor(), store: OpenedStore(try SQLiteRunStore(home: folder)))
    }

    static func post(_ port: Int, _ session: String, _ message: JSONValue) async throws -> HTTP.Answer {
        try await HTTP.request(port, "POST", "/mcp", headers: accept.merging(["MCP-Session-Id": session]) { $1 }, json: message)
    }

    @Test func aSessionAndItsCallStreamOutliveTheServer() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-mcp-restore-\(UUID().uuidString)").path
        defer {
            do { try FileManager.default.removeItem(atPath: folder) } catch { print("could not remove \(folder): \(error)") }
        }
        let call: JSONValue = [
            "jsonrpc": "2.0", "id": "call-1", "method": "tools/call",
            "params": ["name": "echo", "arguments": ["text": "hello", "times": 2], "_meta": ["progressToken": "p"]],
        ]
        let (session, original) = try await ServerHarness.withServer(executor: try Self.durableExecutor(folder)) { port, _ in
            let opened = try await HTTP.request(port, "POST", "/mcp", headers: Self.accept, json: [
                "jsonrpc": "2.0", "id": 1, "method": "initialize",
                "params": ["protocolVersion": "2025-06-18", "capabilities": ["elicitation": .object(JSONObject())], "clientInfo": ["name": "t", "version": "1"]],
            ])
            let session = try #require(opened.headers["mcp-session-id"])
            #expect(try await Self.post(port, session, ["jsonrpc": "2.0", "method": "notifications/initialized"]).status == 202)
            #expect(try await Self.post(port, session, ["jsonrpc": "2.0", "id": 2, "method": "logging/setLevel", "params": ["level": "debug"]]).status == 200)
            let (_, reader, _) = try await HTTP.sse(port, "POST", "/mcp", headers: ["MCP-Session-Id": session], json: call)
            return (session, await HTTP.drain(reader))
        }
        #expect(original.first?.id == "1_0_0")
        let response = try JSONParser.parse(try #require(original.last?.data))
        #expect(response["id"] == "call-1")
        #expect(response["result"]?["isError"] == false)

        try await ServerHarness.withServer(executor: try Self.durableExecutor(folder)) { port, server in
            // The kept stream, from any point: what followed, the same bytes under the same ids.
            for seen in [1, 2, original.count - 1] {
                let lastSeen = try #require(original[seen - 1].id)
                let (head, reader, _) = try await HTTP.sse(port, "GET", "/mcp", headers: ["MCP-Session-Id": session, "Last-Event-ID": lastSeen])
                #expect(head.status == 200)
                #expect(await HTTP.drain(reader) == Array(original.dropFirst(seen)), "after \(lastSeen)")
            }
            // The session acts as negotiated: its version, and its level for new calls.
            let versioned = try await HTTP.request(
                port, "POST", "/mcp", headers: Self.accept.merging(["MCP-Session-Id": session, "MCP-Protocol-Version": "2025-06-18"]) { $1 },
                json: ["jsonrpc": "2.0", "id": 3, "method": "tools/list"])
            #expect(versioned.status == 200)
            let restored = try #require(server.mcpSessions.entry(session))
            #expect(restored.session.protocolVersion == "2025-06-18")
            #expect(restored.session.isInitialized)
            #expect(restored.session.clientCapabilities["elicitation"] != nil)
            // New streams take ids the old server never handed out (its GET stream took 2).
            let report: JSONValue = ["jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": ["name": "news_report", "arguments": ["task": "AI agents"]]]
            let (_, reader, _) = try await HTTP.sse(port, "POST", "/mcp", headers: ["MCP-Session-Id": session], json: report)
            let again = await HTTP.drain(reader)
            #expect(again.first?.id == "3_0_0")
            #expect(again.contains { $0.data.contains(#""level":"debug""#) }, "the session's debug level came back")
            // Ids of streams nobody kept are refused.
            let unknown = try await HTTP.request(
                port, "GET", "/mcp", headers: ["Accept": "text/event-stream", "MCP-Session-Id": session, "Last-Event-ID": "9_1_0"])
            #expect(unknown.status == 400)
            #expect(try await HTTP.request(port, "DELETE", "/mcp", headers: ["MCP-Session-Id": session]).status == 204)
        }

        // A session the client ended is gone for good.
        try await ServerHarness.withServer(executor: try Self.durableExecutor(folder)) { port, _ in
            let ping = try await Self.post(port, session, ["jsonrpc": "2.0", "id": 4, "method": "ping"])
            #expect(ping.status == 404)
        }
    }

    @Test func anotherUsersSessionIsNotTakenUp() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-mcp-restore-\(UUID().uuidString)").path
        defer {
            do { try FileManager.default.removeItem(atPath: folder) } catch { print("could not remove \(folder): \(error)") }
        }
        let keys = try APIKeys(parsing: "key-a:alice,key-b:bob")
        let configuration = SluiceHTTPServer.Configuration(port: 0, apiKeys: keys)
        let session = try await ServerHarness.withServer(executor: try Self.durableExecutor(folder), configuration: configuration) { port, _ in
            let opened = try await HTTP.request(port, "POST", "/mcp", headers: Self.accept.merging(["Authorization": "Bearer key-a"]) { $1 }, json: [
                "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": ["protocolVersion": "2025-11-25", "capabilities": .object(JSONObject())],
            ])
            return try #require(opened.headers["mcp-session-id"])
        }
        try await ServerHarness.withServer(executor: try Self.durableExecutor(folder), configuration: configuration) { port, _ in
            let ping: JSONValue = ["jsonrpc": "2.0", "id": 2, "method": "ping"]
            let bob = try await HTTP.request(
                port, "POST", "/mcp", headers: Self.accept.merging(["MCP-Session-Id": session, "Authorization": "Bearer key-b"]) { $1 }, json: ping)
            #expect(bob.status == 404)
            let alice = try await HTTP.request(
                port, "POST", "/mcp", headers: Self.accept.merging(["MCP-Session-Id": session, "Authorization": "Bearer key-a"]) { $1 }, json: ping)
            #expect(alice.status == 200)
        }
    }
}
