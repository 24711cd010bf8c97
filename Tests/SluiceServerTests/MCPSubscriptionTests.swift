import Foundation
import SluiceJSON
import Testing
@testable import SluiceServer

/// MCP 2026-07-28 `subscriptions/listen` over real sockets and stdio: Sluice honours no change
/// notification (its tools never change while it runs), but a listen is acknowledged first,
/// held open, ended without an answer when the client cancels it, and answered with a
/// completion naming the subscription when the server shuts down.
@Suite(.timeLimit(.minutes(2))) struct MCPSubscriptionTests {
    static let subscriptionID = "io.modelcontextprotocol/subscriptionId"
    static let filter: JSONObject = ["notifications": ["toolsListChanged": true, "resourceSubscriptions": ["file:///project/config.json"]]]

    @Test func aListenIsAcknowledgedHeldAndAnsweredAtShutdown() async throws {
        try await ServerHarness.withServer { port, server in
            let transport = HTTPTransport(port: port, modern: true)
            let client = MCPTestClient(transport)
            let id = try await client.start("subscriptions/listen", MCPTestClient.modernParams(Self.filter))
            let ack = try await client.waitFor { $0["method"] == "notifications/subscriptions/acknowledged" }
            #expect(ack["params"]?["_meta"]?[Self.subscriptionID] == .integer(Int64(id)))
            #expect(ack["params"]?["notifications"] == .object(JSONObject()), "nothing honoured: the tools never change")
            // Other requests go on beside it.
            #expect(try await client.modern("tools/list")["result"]?["resultType"] == "complete")
            #expect(server.mcp.subscriptions.openCount == 1)

            await server.shutdown()
            let end = try await client.response(to: id)
            #expect(end["result"]?["resultType"] == "complete")
            #expect(end["result"]?["_meta"]?[Self.subscriptionID] == .integer(Int64(id)))
            await client.close()
        }
    }

    @Test func aClosedStreamEndsItsListenAndAUserHoldsABoundedNumber() async throws {
        // Heartbeats are what find a closed connection on a quiet stream.
        let configuration = SluiceHTTPServer.Configuration(port: 0, heartbeatInterval: .milliseconds(20))
        try await ServerHarness.withServer(configuration: configuration) { port, server in
            let transport = HTTPTransport(port: port, modern: true)
            let client = MCPTestClient(transport)
            for _ in 0..<MCPServer.listensPerUser {
                _ = try await client.start("subscriptions/listen", MCPTestClient.modernParams())
            }
            for _ in 0..<100 where server.mcp.subscriptions.openCount < MCPServer.listensPerUser {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(server.mcp.subscriptions.openCount == MCPServer.listensPerUser)
            let refused = try await client.modern("subscriptions/listen")
            #expect(refused["error"]?["code"] == -32000, "\(refused)")
            #expect(refused["error"]?["message"]?.stringValue?.contains("at most \(MCPServer.listensPerUser)") == true)

            // The client goes away: its listens end with its streams.
            transport.dropStreams()
            for _ in 0..<250 where server.mcp.subscriptions.openCount > 0 {
                try await Task.sleep(for: .milliseconds(20))
            }
            try #require(server.mcp.subscriptions.openCount == 0)
            let again = MCPTestClient(HTTPTransport(port: port, modern: true))
            _ = try await again.start("subscriptions/listen", MCPTestClient.modernParams())
            _ = try await again.waitFor { $0["method"] == "notifications/subscriptions/acknowledged" }
            await again.close()
            await client.close()
        }
    }

    @Test func aListenNeedsAStreamAndAFilterObject() async throws {
        try await ServerHarness.withServer { port, _ in
            let plain = try await MCPModernHTTPTests.post(port, "subscriptions/listen") { $0["Accept"] = "application/json" }
            #expect(plain.status == 406)
            #expect(plain.json?["error"]?["message"]?.stringValue?.contains("text/event-stream") == true)
            let client = MCPTestClient(HTTPTransport(port: port, modern: true))
            let malformed = try await client.modern("subscriptions/listen", ["notifications": "tools"])
            #expect(malformed["error"]?["code"] == -32602)
            await client.close()
        }
    }

    @Test func onStdioACancelledListenEndsUnanswered() async throws {
        let transport = try StdioTransport()
        let client = MCPTestClient(transport)
        let id = try await client.start("subscriptions/listen", MCPTestClient.modernParams(Self.filter))
        let ack = try await client.waitFor { $0["method"] == "notifications/subscriptions/acknowledged" }
        #expect(ack["params"]?["_meta"]?[Self.subscriptionID] == .integer(Int64(id)))
        try await client.notify("notifications/cancelled", ["requestId": .integer(Int64(id)), "reason": "done listening"])
        // The same id listens again once its first listen has ended: it was ended, not leaked.
        let second = try await client.start("subscriptions/listen", MCPTestClient.modernParams())
        _ = try await client.waitFor { $0["method"] == "notifications/subscriptions/acknowledged" && $0["params"]?["_meta"]?[Self.subscriptionID] == .integer(Int64(second)) }
        #expect(try await client.modern("tools/list")["result"]?["resultType"] == "complete")
        await client.close()
        #expect(transport.strayLines.withLock { $0 } == [])
    }
}
