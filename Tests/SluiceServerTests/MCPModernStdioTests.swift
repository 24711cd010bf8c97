import Foundation
import SluiceJSON
import Testing
@testable import SluiceServer

/// MCP 2026-07-28 over the stdio of a child `sluice serve --stdio`, in the same process as a
/// session-based client would use.
@Suite(.timeLimit(.minutes(3))) struct MCPModernStdioTests {
    static let elicitation: JSONValue = ["elicitation": .object(JSONObject())]

    @Test func discoverListCallAndUnknownVersions() async throws {
        let transport = try StdioTransport()
        let client = MCPTestClient(transport)
        // The stdio probe of a dual-era client: discover before anything else.
        let discover = try #require(try await client.modern("server/discover")["result"])
        #expect(discover["resultType"] == "complete")
        #expect(discover["supportedVersions"]?.arrayValue?.first == "2026-07-28")
        let unknown = try await client.request("server/discover", MCPTestClient.modernParams(version: "1900-01-01"))
        #expect(unknown["error"]?["code"] == -32022)
        #expect(unknown["error"]?["data"]?["supported"]?.arrayValue?.contains("2025-11-25") == true)
        #expect(try await client.request("server/discover")["error"]?["code"] == -32602, "no _meta: malformed")
        #expect(try await client.modern("ping")["error"]?["code"] == -32601)
        #expect(try await client.modern("logging/setLevel", ["level": "debug"])["error"]?["code"] == -32601)

        let list = try #require(try await client.modern("tools/list")["result"])
        let names = list["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        #expect(names == names.sorted() && names.contains("ask"))
        #expect(list["ttlMs"] != nil && list["cacheScope"] == "public")

        let call = try await client.modern("tools/call", [
            "name": "ask", "arguments": ["auto_confirm": true], "_meta": ["progressToken": "s1"],
        ], logLevel: "debug")
        #expect(call["result"]?["resultType"] == "complete" && call["result"]?["isError"] == false)
        let notifications = await client.notifications
        #expect(notifications.contains { $0["params"]?["level"] == "debug" }, "debug asked: deltas come too")
        #expect(notifications.contains { $0["method"] == "notifications/progress" && $0["params"]?["progressToken"] == "s1" })

        // The same process still serves a session client, with its own rules.
        let initialized = try await client.initialize()
        #expect(initialized["protocolVersion"] == "2025-11-25")
        #expect(try await client.request("ping")["result"] == .object(JSONObject()))
        await client.clearNotifications()
        #expect(try await client.modern("tools/call", ["name": "ask", "arguments": ["auto_confirm": true]])["result"]?["isError"] == false)
        #expect(!(await client.notifications).contains { $0["method"] == "notifications/message" }, "a modern call without a level gets no logs, even in a session")
        await client.close()
        #expect(transport.strayLines.withLock { $0 } == [])
    }

    @Test func aConfirmIsAnInputRequestAndItsStateWorksOnce() async throws {
        let transport = try StdioTransport()
        let client = MCPTestClient(transport)
        let call: JSONObject = ["name": "ask", "arguments": ["topic": "sluices"]]
        let first = try #require(try await client.modern("tools/call", call, capabilities: Self.elicitation)["result"])
        #expect(first["resultType"] == "input_required")
        #expect(first["inputRequests"]?["approve"]?["method"] == "elicitation/create")
        let state = try #require(first["requestState"]?.stringValue)
        #expect(await client.serverRequests.isEmpty, "2026-07-28 servers send no requests of their own")

        var retry = call
        retry["requestState"] = .string(state)
        retry["inputResponses"] = ["approve": ["action": "accept", "content": ["approve": true]]]
        let done = try #require(try await client.modern("tools/call", retry, capabilities: Self.elicitation)["result"])
        #expect(done["resultType"] == "complete" && done["isError"] == false)
        #expect(try await client.modern("tools/call", retry, capabilities: Self.elicitation)["error"]?["code"] == -32602, "replayed")
        await client.close()
    }
}

/// `notifications/cancelled` stops a 2026-07-28 call on a stdio connection (in process, with a
/// gated run, so the call is surely in flight).
@Suite(.timeLimit(.minutes(1))) struct MCPModernCancelTests {
    @Test func notificationsCancelledStopsAModernCall() async throws {
        let gated = GatedExecutor()
        let runs = RunManager(executor: gated)
        let server = MCPServer(library: try ServerHarness.library(), runs: runs)
        let session = server.makeSession(user: "local", unrelated: DiscardingOutbound())
        try await withThrowingTaskGroup(of: JSONRPCMessage?.self) { group in
            group.addTask {
                await runs.run()
                return nil
            }
            let call = JSONRPCMessage.request(id: 41, method: "tools/call", params: MCPTestClient.modernParams(["name": "echo", "arguments": ["text": "hi"]]))
            group.addTask { await session.handle(call, outbound: DiscardingOutbound()) }
            let runID = try #require(await gated.waiting.take())
            // Sent at once: the call may not have registered its run yet, and must still stop.
            _ = await session.handle(.notification(method: "notifications/cancelled", params: ["requestId": 41]), outbound: DiscardingOutbound())
            let record = try #require(runs.registry.run(id: runID))
            #expect(await record.waitForResult().status == .cancelled)
            // The cancelled call sends no response.
            let answered = try await group.next()
            #expect(answered.map { $0 == nil } == true)
            await runs.drain(gracePeriod: .zero)
            group.cancelAll()
        }
    }
}
