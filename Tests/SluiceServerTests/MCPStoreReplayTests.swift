import Foundation
import SluiceJSON
import SluiceServer
import SluiceStore
import Testing

/// A `tools/call` stream resumed with `Last-Event-ID` after its replay buffer let the missed
/// events go: with a durable store they are rendered again from the run's stored events, the
/// same bytes under the same ids; without one the resume is refused as before.
@Suite(.timeLimit(.minutes(1))) struct MCPStoreReplayTests {
    static let initialize: JSONValue = [
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": ["protocolVersion": "2025-06-18", "capabilities": .object(JSONObject()), "clientInfo": ["name": "replay-test", "version": "1"]],
    ]

    static func call(_ name: String, _ arguments: JSONValue) -> JSONValue {
        ["jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": ["name": .string(name), "arguments": arguments, "_meta": ["progressToken": "p1"]]]
    }

    /// A session on the server at `port`: its id.
    static func openSession(_ port: Int) async throws -> String {
        let answer = try await HTTP.request(port, "POST", "/mcp", headers: ["Accept": "application/json, text/event-stream"], json: initialize)
        #expect(answer.status == 200)
        return try #require(answer.headers["mcp-session-id"])
    }

    static let calls: [(String, JSONValue)] = [("echo", ["text": "hello", "times": 2]), ("ask", ["auto_confirm": true])]

    @Test(arguments: calls)
    func aCallStreamPastItsBufferIsRenderedAgainFromTheStore(tool: String, arguments: JSONValue) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-mcp-replay-\(UUID().uuidString)").path
        defer {
            do { try FileManager.default.removeItem(atPath: folder) } catch { print("could not remove \(folder): \(error)") }
        }
        let executor = DurableRunExecutor(engine: try ServerHarness.engineExecutor(), store: OpenedStore(try SQLiteRunStore(home: folder)))
        // A buffer of 2: nearly every event of the call leaves it before the client comes back.
        let configuration = SluiceHTTPServer.Configuration(port: 0, replayBufferSize: 2)
        try await ServerHarness.withServer(executor: executor, configuration: configuration) { port, _ in
            let session = try await Self.openSession(port)
            let (head, reader, _) = try await HTTP.sse(port, "POST", "/mcp", headers: ["MCP-Session-Id": session], json: Self.call(tool, arguments))
            #expect(head.status == 200)
            let original = await HTTP.drain(reader)
            #expect(original.count > 4)
            #expect(original.last?.data.contains(#""isError":false"#) == true)

            // Ids name the run event each message was rendered from: `<stream>_<seq>_<k>`.
            #expect(original.first?.id == "1_0_0")
            let ids = original.compactMap(\.id)
            #expect(ids.count == original.count && Set(ids).count == ids.count)
            for seen in [1, 2, original.count - 2] {
                let lastSeen = try #require(original[seen - 1].id)
                let (resumedHead, resumedReader, _) = try await HTTP.sse(
                    port, "GET", "/mcp", headers: ["MCP-Session-Id": session, "Last-Event-ID": lastSeen])
                #expect(resumedHead.status == 200)
                let resumed = await HTTP.drain(resumedReader)
                #expect(resumed == Array(original.dropFirst(seen)), "resumed after \(lastSeen)")
            }
        }
    }

    /// A stream dropped while the call waits for the client: the request it sent (kept whole)
    /// and the notifications after it come back in order, without a gap, then the live rest.
    @Test func aDroppedCallResumesFromTheStoreWhileItGoesOn() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-mcp-drop-\(UUID().uuidString)").path
        defer {
            do { try FileManager.default.removeItem(atPath: folder) } catch { print("could not remove \(folder): \(error)") }
        }
        let executor = DurableRunExecutor(engine: try ServerHarness.engineExecutor(), store: OpenedStore(try SQLiteRunStore(home: folder)))
        let configuration = SluiceHTTPServer.Configuration(port: 0, replayBufferSize: 1)
        try await ServerHarness.withServer(executor: executor, configuration: configuration) { port, _ in
            let transport = HTTPTransport(port: port)
            let client = MCPTestClient(transport)
            try await client.initialize(capabilities: ["elicitation": .object(JSONObject())])
            let call = try await client.start("tools/call", ["name": "ask", "arguments": ["topic": "sluice gates"], "_meta": ["progressToken": 9]])
            let asked = try await client.waitFor { $0["method"] == "elicitation/create" }
            transport.dropStreams()
            let seenBeforeDrop = transport.lastEventIDs.count
            #expect(seenBeforeDrop >= 2)
            try await transport.send(["jsonrpc": "2.0", "id": try #require(asked["id"]), "result": ["action": "accept", "content": ["approve": true]]])
            // From just after the priming event: all but the first event again, then the rest.
            #expect(transport.lastEventIDs.first == "1_0_0")
            let head = try await transport.openGET(lastEventID: "1_0_0")
            #expect(head.status == 200)
            let response = try await client.response(to: call)
            #expect(response["result"]?["isError"] == false)
            await client.close()
            let ids = transport.lastEventIDs
            let firstAfterPriming = ids[1]
            let resumedFrom = try #require(ids.lastIndex(of: firstAfterPriming))
            #expect(resumedFrom >= seenBeforeDrop)
            let resumed = Array(ids[resumedFrom...])
            // Everything up to the drop came again (the request kept whole), then what followed,
            // each once, in the order of the run.
            #expect(Array(resumed.prefix(seenBeforeDrop - 1)) == Array(ids[1..<seenBeforeDrop]))
            #expect(resumed.count > resumedFrom)
            let positions = resumed.compactMap { RunPositionID($0) }
            #expect(positions.count == resumed.count)
            #expect(zip(positions, positions.dropFirst()).allSatisfy { $0 < $1 })
        }
    }

    @Test func withoutAStoreTheTrimmedEventsAreRefused() async throws {
        let configuration = SluiceHTTPServer.Configuration(port: 0, replayBufferSize: 2)
        try await ServerHarness.withServer(configuration: configuration) { port, _ in
            let session = try await Self.openSession(port)
            let (_, reader, _) = try await HTTP.sse(port, "POST", "/mcp", headers: ["MCP-Session-Id": session], json: Self.call("echo", ["text": "hi"]))
            let original = await HTTP.drain(reader)
            #expect(original.count > 4)
            let refused = try await HTTP.request(
                port, "GET", "/mcp", headers: ["Accept": "text/event-stream", "MCP-Session-Id": session, "Last-Event-ID": "1_1"])
            #expect(refused.status == 400)
        }
    }
}

/// A call-stream event id `<stream>_<seq>_<k>` as a comparable pair (seq, k).
struct RunPositionID: Comparable {
    var seq: Int
    var index: Int

    init?(_ id: String) {
        let parts = id.split(separator: "_")
        guard parts.count == 3, let seq = Int(parts[1]), let index = Int(parts[2]) else { return nil }
        self.seq = seq
        self.index = index
    }

    static func < (lhs: RunPositionID, rhs: RunPositionID) -> Bool { (lhs.seq, lhs.index) < (rhs.seq, rhs.index) }
}
