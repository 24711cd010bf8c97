import Foundation
import SluiceJSON
import SluiceRunLog
import SluiceStore
import Testing
@testable import SluiceServer

/// MCP 2026-07-28 on /mcp over real sockets, next to the session-based revisions.
@Suite(.timeLimit(.minutes(3))) struct MCPModernHTTPTests {
    static let modern = "2026-07-28"

    /// A raw 2026-07-28 POST with the headers a conforming client sends, `edit`ed by the test.
    static func post(
        _ port: Int, _ method: String, _ params: JSONObject = JSONObject(), id: Int = 9, meta: JSONValue? = nil,
        headers edit: (inout [String: String]) -> Void = { _ in }
    ) async throws -> HTTP.Answer {
        var body: JSONObject = ["jsonrpc": "2.0", "id": .integer(Int64(id)), "method": .string(method)]
        var params = MCPTestClient.modernParams(params).objectValue ?? JSONObject()
        if let meta { params["_meta"] = meta }
        body["params"] = .object(params)
        var headers = HTTPTransport.modernHeaders(for: .object(body))
        headers["Accept"] = "application/json, text/event-stream"
        headers["MCP-Protocol-Version"] = headers["MCP-Protocol-Version"] ?? modern
        edit(&headers)
        return try await HTTP.request(port, "POST", "/mcp", headers: headers, json: .object(body))
    }

    @Test func discoverAndListAreSessionlessAndCacheable() async throws {
        try await ServerHarness.withServer { port, _ in
            let transport = HTTPTransport(port: port, modern: true)
            let client = MCPTestClient(transport)
            let discover = try #require(try await client.modern("server/discover")["result"])
            #expect(discover["resultType"] == "complete")
            #expect(discover["supportedVersions"] == ["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"])
            #expect(discover["capabilities"]?["tools"] != nil)
            #expect(discover["cacheScope"] == "public" && (discover["ttlMs"]?.integerValue ?? -1) >= 0)
            #expect(discover["_meta"]?["io.modelcontextprotocol/serverInfo"]?["name"] == "sluice")

            let list = try #require(try await client.modern("tools/list")["result"])
            #expect(list["resultType"] == "complete")
            #expect(list["cacheScope"] == "public" && list["ttlMs"]?.integerValue != nil)
            let tools = list["tools"]?.arrayValue ?? []
            let names = tools.compactMap { $0["name"]?.stringValue }
            #expect(names == names.sorted() && names.contains("news_report") && names.contains("ask"))
            #expect(tools.allSatisfy { $0["execution"] == nil && $0["inputSchema"]?["type"] == "object" })
            #expect(transport.sessionID == nil, "no session is minted for 2026-07-28")
            #expect(transport.statuses == [200, 200])
            await client.close()
        }
    }

    @Test func badVersionsHeadersAndMetaAreRefusedWithModernErrors() async throws {
        try await ServerHarness.withServer { port, _ in
            let unknown = try await Self.post(port, "tools/list", meta: ["io.modelcontextprotocol/protocolVersion": "1900-01-01", "io.modelcontextprotocol/clientCapabilities": [:]]) {
                $0["MCP-Protocol-Version"] = "1900-01-01"
            }
            #expect(unknown.status == 400)
            #expect(unknown.json?["id"] == 9)
            #expect(unknown.json?["error"]?["code"] == -32022)
            #expect(unknown.json?["error"]?["data"]?["requested"] == "1900-01-01")
            #expect(unknown.json?["error"]?["data"]?["supported"]?.arrayValue?.contains("2026-07-28") == true)

            let mismatched = try await Self.post(port, "tools/list") { $0["MCP-Protocol-Version"] = "2025-11-25" }
            #expect(mismatched.status == 400 && mismatched.json?["error"]?["code"] == -32020)
            let noMethod = try await Self.post(port, "tools/list") { $0["Mcp-Method"] = nil }
            #expect(noMethod.status == 400 && noMethod.json?["error"]?["code"] == -32020)
            let otherMethod = try await Self.post(port, "tools/list") { $0["Mcp-Method"] = "tools/call" }
            #expect(otherMethod.status == 400 && otherMethod.json?["error"]?["code"] == -32020)
            let otherName = try await Self.post(port, "tools/call", ["name": "echo", "arguments": ["text": "hi"]]) { $0["Mcp-Name"] = "ask" }
            #expect(otherName.status == 400 && otherName.json?["error"]?["code"] == -32020)
            let noName = try await Self.post(port, "tools/call", ["name": "echo", "arguments": ["text": "hi"]]) { $0["Mcp-Name"] = nil }
            #expect(noName.status == 400 && noName.json?["error"]?["code"] == -32020)
            // The spec's base64 sentinel is decoded before comparing.
            let encoded = try await Self.post(port, "tools/call", ["name": "echo", "arguments": ["text": "hi"]]) {
                $0["Mcp-Name"] = "=?base64?" + Data("echo".utf8).base64EncodedString() + "?="
                $0["Accept"] = "application/json"
            }
            #expect(encoded.status == 200 && encoded.json?["result"]?["resultType"] == "complete")

            let noCapabilities = try await Self.post(port, "tools/list", meta: ["io.modelcontextprotocol/protocolVersion": "2026-07-28"])
            #expect(noCapabilities.status == 400 && noCapabilities.json?["error"]?["code"] == -32602)
            let badLevel = try await Self.post(port, "tools/list", meta: [
                "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": [:], "io.modelcontextprotocol/logLevel": "loud",
            ])
            #expect(badLevel.status == 400 && badLevel.json?["error"]?["code"] == -32602)
            let noMeta = try await Self.post(port, "tools/list", meta: .object(JSONObject()))
            #expect(noMeta.status == 400 && noMeta.json?["error"]?["code"] == -32602)
            let ping = try await Self.post(port, "ping")
            #expect(ping.status == 404 && ping.json?["error"]?["code"] == -32601)

            // A session client on the same endpoint is unaffected; an unknown header version is
            // refused there with the same modern error.
            let legacy = HTTPTransport(port: port)
            let client = MCPTestClient(legacy)
            #expect(try await client.initialize()["protocolVersion"] == "2025-11-25")
            #expect(try await client.request("ping")["result"] == .object(JSONObject()))
            let session = try #require(legacy.sessionID)
            let old = try await HTTP.request(port, "POST", "/mcp", headers: ["Accept": "application/json, text/event-stream", "MCP-Session-Id": session, "MCP-Protocol-Version": "1999-01-01"], json: MCPHTTPTests.ping)
            #expect(old.status == 400 && old.json?["error"]?["code"] == -32022)
            await client.close()
        }
    }

    @Test func aCallStreamsProgressAndOnlyOptedInLogs() async throws {
        try await ServerHarness.withServer { port, _ in
            let transport = HTTPTransport(port: port, modern: true)
            let client = MCPTestClient(transport)
            let response = try await client.modern("tools/call", [
                "name": "ask", "arguments": ["auto_confirm": true], "_meta": ["progressToken": "p1"],
            ], logLevel: "info")
            let result = try #require(response["result"])
            #expect(result["resultType"] == "complete" && result["isError"] == false)
            #expect(result["structuredContent"]?["title"]?.stringValue != nil)
            let notifications = await client.notifications
            let messages = notifications.filter { $0["method"] == "notifications/message" }
            // Seed 001's shapes, as on the older revisions.
            #expect(messages.first?["params"]?["data"]?["msg"]?["details"]?["session_id"]?.stringValue?.hasPrefix("run_") == true)
            #expect(messages.allSatisfy { $0["params"]?["level"] != "debug" })
            let progress = notifications.filter { $0["method"] == "notifications/progress" }.compactMap { $0["params"]?["progress"]?.doubleValue }
            #expect(!progress.isEmpty && zip(progress, progress.dropFirst()).allSatisfy { $0 < $1 })
            #expect(transport.lastEventIDs.isEmpty, "2026-07-28 streams carry no event ids")

            await client.clearNotifications()
            let quiet = try await client.modern("tools/call", ["name": "ask", "arguments": ["auto_confirm": true], "_meta": ["progressToken": 2]])
            #expect(quiet["result"]?["isError"] == false)
            let second = await client.notifications
            #expect(!second.contains { $0["method"] == "notifications/message" }, "no level in _meta: no log messages")
            #expect(second.contains { $0["method"] == "notifications/progress" })
            await client.close()
        }
    }

    static let elicitation: JSONValue = ["elicitation": ["form": .object(JSONObject())]]

    @Test func aConfirmIsAnInputRequestAnsweredOnRetry() async throws {
        let keys = SluiceHTTPServer.Configuration(port: 0, apiKeys: APIKeys([("alice-key", "alice"), ("bob-key", "bob")]))
        try await ServerHarness.withDurableExecutor { durable in
        try await ServerHarness.withServer(executor: durable, configuration: keys) { port, server in
            let alice = MCPTestClient(HTTPTransport(port: port, headers: ["Authorization": "Bearer alice-key"], modern: true))
            let call: JSONObject = ["name": "ask", "arguments": ["topic": "locks"]]
            let first = try #require(try await alice.modern("tools/call", call, capabilities: Self.elicitation)["result"])
            #expect(first["resultType"] == "input_required")
            let ask = try #require(first["inputRequests"]?["approve"])
            #expect(ask["method"] == "elicitation/create")
            #expect(ask["params"]?["requestedSchema"]?["properties"]?["approve"]?["type"] == "boolean")
            #expect(ask["params"]?["message"]?.stringValue?.contains("locks") == true)
            let state = try #require(first["requestState"]?.stringValue)
            let run = try #require(server.mcp.runs.registry.runs(user: "alice").first)
            #expect(run.status == .waiting, "its execution here ended at the question")
            let stored = try #require(try await durable.store.run(id: run.id))
            #expect(stored.status == .waiting && stored.owner == nil, "the run waits in the store, owned by nobody")
            #expect(stored.pendingInput?.step == "approve")

            var retry = call
            retry["inputResponses"] = ["approve": ["action": "accept", "content": ["approve": true]]]
            // Forged, altered, and someone else's state are refused.
            retry["requestState"] = "eyJ2IjoxfQ.AAAA"
            #expect(try await alice.modern("tools/call", retry, capabilities: Self.elicitation)["error"]?["code"] == -32602)
            retry["requestState"] = .string(String(state.dropLast(2)) + (state.hasSuffix("AA") ? "BB" : "AA"))
            #expect(try await alice.modern("tools/call", retry, capabilities: Self.elicitation)["error"]?["code"] == -32602)
            let bob = MCPTestClient(HTTPTransport(port: port, headers: ["Authorization": "Bearer bob-key"], modern: true))
            retry["requestState"] = .string(state)
            let stolen = try await bob.modern("tools/call", retry, capabilities: Self.elicitation)
            #expect(stolen["error"]?["code"] == -32602)
            #expect(stolen["error"]?["message"]?.stringValue?.contains("another user") == true)
            // Other arguments than the call that was asked about: refused too.
            var altered = retry
            altered["arguments"] = ["topic": "weirs"]
            #expect(try await alice.modern("tools/call", altered, capabilities: Self.elicitation)["error"]?["code"] == -32602)
            // No answer in the retry: the same question again.
            var empty = call
            empty["requestState"] = .string(state)
            #expect(try await alice.modern("tools/call", empty, capabilities: Self.elicitation)["result"]?["resultType"] == "input_required")

            let done = try #require(try await alice.modern("tools/call", retry, capabilities: Self.elicitation)["result"])
            #expect(done["resultType"] == "complete" && done["isError"] == false)
            #expect(done["structuredContent"]?["title"]?.stringValue != nil)
            #expect(await server.mcp.runs.registry.run(id: run.id)?.waitForResult().status == .completed)
            // Replayed: the question was answered once.
            let replay = try await alice.modern("tools/call", retry, capabilities: Self.elicitation)
            #expect(replay["error"]?["code"] == -32602)
            // One log across the release and the resume: every seq once, in order.
            let log = try await durable.store.events(runID: run.id, after: 0, limit: nil)
            #expect(log.map(\.seq) == Array(1...log.count))
            #expect(log.filter { $0.type == .runResumed }.count == 1 && log.last?.type == .runCompleted)
            #expect(!log.contains { $0.type == .runCancelled }, "releasing the run records no end")
            await alice.close()
            await bob.close()
        }
        }
    }

    @Test func withoutAStoreTheConfirmFallsBack() async throws {
        // Input requests need a durable store (the waiting run lives there); without one the
        // step's fallback applies, as for a client without elicitation.
        try await ServerHarness.withServer { port, _ in
            let client = MCPTestClient(HTTPTransport(port: port, modern: true))
            let answer = try await client.modern("tools/call", ["name": "ask", "arguments": ["topic": "locks"]], capabilities: Self.elicitation)
            #expect(answer["result"]?["resultType"] != "input_required", "\(answer.serialized(pretty: false).prefix(300))")
            await client.close()
        }
    }

    @Test func withoutElicitationTheConfirmFallsBackAndNothingWaits() async throws {
        try await ServerHarness.withServer { port, server in
            let client = MCPTestClient(HTTPTransport(port: port, modern: true))
            let answer = try await client.modern("tools/call", ["name": "ask", "arguments": ["topic": "locks"]])
            #expect(answer["result"]?["resultType"] != "input_required")
            #expect(server.mcp.runs.registry.runs(user: "anonymous").allSatisfy { $0.status != .running })
            await client.close()
        }
    }

    @Test func closingTheCallStreamCancelsTheRun() async throws {
        let gated = GatedExecutor()
        // Heartbeats are what find a closed connection while the run is quiet.
        let configuration = SluiceHTTPServer.Configuration(port: 0, heartbeatInterval: .milliseconds(20))
        try await ServerHarness.withServer(executor: gated, configuration: configuration) { port, server in
            let transport = HTTPTransport(port: port, modern: true)
            let client = MCPTestClient(transport)
            _ = try await client.start("tools/call", MCPTestClient.modernParams(["name": "echo", "arguments": ["text": "hi"]]))
            let runID = try #require(await gated.waiting.take())
            transport.dropStreams()
            let record = try #require(server.mcp.runs.registry.run(id: runID))
            #expect(await record.waitForResult().status == .cancelled)
            await client.close()
        }
    }
}
