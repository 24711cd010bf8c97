import Foundation
import SluiceEngine
import SluiceJSON
import SluiceRunLog
import Testing
@testable import SluiceServer

/// The pieces under the transports: SSE framing, keys, origins, JSON-RPC, stores, streams.
@Suite struct ServerPartsTests {
    @Test func sseSplitsEveryLineOfThePayload() {
        let event = SSEEvent(id: "7", event: "status_update", data: "a\nb\r\nc\rd")
        #expect(event.formatted == "id: 7\nevent: status_update\ndata: a\ndata: b\ndata: c\ndata: d\n\n")
        #expect(SSEEvent(data: "").formatted == "data: \n\n")
        #expect(SSEEvent.comment("heartbeat") == ": heartbeat\n\n")
        #expect(SSEEvent(id: "x\ny", data: "z").formatted.hasPrefix("id: x y\n"), "ids and names stay on one line")
    }

    @Test func apiKeysNameTheirUsers() throws {
        let keys = try APIKeys(parsing: "k1:alice, k2:bob,")
        #expect(keys.user(for: "k2") == "bob")
        #expect(keys.user(for: "k1") == "alice")
        #expect(keys.user(for: "k") == nil)
        #expect(keys.user(for: "k1x") == nil)
        #expect(keys.user(for: "") == nil)
        #expect(throws: APIKeys.Invalid.self) { try APIKeys(parsing: "k1alice") }
        #expect(throws: APIKeys.Invalid.self) { try APIKeys(parsing: ":alice") }
        #expect(APIKeys.constantTimeEqual(Array("abc".utf8), Array("abc".utf8)))
        #expect(!APIKeys.constantTimeEqual(Array("abc".utf8), Array("abd".utf8)))
        #expect(!APIKeys.constantTimeEqual(Array("abc".utf8), Array("abcd".utf8)))
    }

    @Test(arguments: [
        (nil, true), ("http://localhost:6274", true), ("http://127.0.0.1", true), ("http://[::1]:8080", true),
        ("https://evil.example", false), ("http://localhost.evil.example", false), ("null", false), ("https://app.example.com", true),
    ] as [(String?, Bool)])
    func originsAreLoopbackOrListed(origin: String?, allowed: Bool) {
        #expect(OriginPolicy(allowed: ["https://app.example.com"]).allows(origin) == allowed)
    }

    @Test func jsonRPCMessagesAreReadStrictly() throws {
        #expect(throws: JSONRPCError.self) { try JSONRPCMessage.parse(Array(#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#.utf8)) }
        #expect(throws: JSONRPCError.self) { try JSONRPCMessage.parse(Array(#"{"id":1,"method":"ping"}"#.utf8)) }
        #expect(throws: JSONRPCError.self) { try JSONRPCMessage.parse(Array(#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#.utf8)) }
        do {
            _ = try JSONRPCMessage.parse(Array("{".utf8))
            Issue.record("a parse error was expected")
        } catch {
            #expect(error.code == JSONRPCError.parseError)
        }
        guard case .request(let id, let method, _) = try JSONRPCMessage.parse(Array(#"{"jsonrpc":"2.0","id":"a","method":"ping"}"#.utf8)) else {
            Issue.record("not a request")
            return
        }
        #expect(id == "a" && method == "ping")
        guard case .notification = try JSONRPCMessage.parse(Array(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.utf8)) else {
            Issue.record("not a notification")
            return
        }
        let error = JSONRPCMessage.error(id: 3, error: .runFailed(type: "step_failed", message: "boom"))
        #expect(error.serialized == #"{"jsonrpc":"2.0","id":3,"error":{"code":-32603,"message":"Internal error","data":{"type":"step_failed","message":"boom"}}}"#)
    }

    @Test(arguments: [
        ("2025-11-25", "2025-11-25"), ("2025-06-18", "2025-06-18"), ("2025-03-26", "2025-03-26"), ("2024-11-05", "2025-11-25"), ("later", "2025-11-25"),
    ])
    func versionsAreNegotiated(requested: String, expected: String) async throws {
        let runs = RunManager(executor: GatedExecutor())
        let server = MCPServer(library: try ServerHarness.library(), runs: runs)
        let session = server.makeSession(user: "u", unrelated: DiscardingOutbound())
        let response = await session.handle(.request(id: 1, method: "initialize", params: [
            "protocolVersion": .string(requested), "capabilities": ["experimental": ["x": ["y": 1]], "somethingNew": true], "clientInfo": ["name": "c", "version": "1"],
        ]), outbound: DiscardingOutbound())
        guard case .result(_, let result)? = response else {
            Issue.record("initialize failed: \(String(describing: response))")
            return
        }
        #expect(result["protocolVersion"]?.stringValue == expected)
        #expect((result["capabilities"]?["tasks"] != nil) == (expected == "2025-11-25"))
    }

    @Test func theRunRegistryIsBoundedButKeepsRunningRuns() {
        let registry = InMemoryRunRegistry(capacity: 2)
        let running = RunRecord(id: "r0", planName: "p", user: "u", inputs: .null)
        registry.insert(running)
        for index in 1...3 {
            let record = RunRecord(id: "r\(index)", planName: "p", user: "u", inputs: .null)
            record.finish(RunResult(status: .completed))
            registry.insert(record)
        }
        #expect(registry.run(id: "r0") != nil, "a running run is never evicted")
        #expect(registry.run(id: "r1") == nil && registry.run(id: "r2") == nil)
        #expect(registry.run(id: "r3") != nil)
        #expect(registry.runs(user: "u").map(\.id) == ["r3", "r0"])
        #expect(registry.activeRuns().map(\.id) == ["r0"])
    }

    @Test func resumableStreamsReplayWhatTheyStillHold() async {
        let stream = ResumableStream(streamID: 4, capacity: 3)
        for number in 1...5 { stream.append(data: "m\(number)") }
        #expect(stream.subscribe(after: 1) == nil, "events 2 and 3 have left the buffer")
        stream.finish()
        guard let replay = stream.subscribe(after: 2) else {
            Issue.record("events 3-5 are still buffered")
            return
        }
        var ids: [String] = []
        for await event in replay { ids.append(event.id ?? "") }
        #expect(ids == ["4_3", "4_4", "4_5"])
        #expect(ResumableStream.parse(eventID: "4_5")! == (4, 5))
        #expect(ResumableStream.parse(eventID: "junk") == nil)
    }

    @Test func idleSessionsExpireButNotWhileARequestIsOpen() async throws {
        let runs = RunManager(executor: GatedExecutor())
        let server = MCPServer(library: try ServerHarness.library(), runs: runs)
        let sessions = MCPHTTPSessions(streamCapacity: 10)
        let busy = sessions.create(user: "u", server: server)!
        let idle = sessions.create(user: "u", server: server)!
        busy.requestStarted()
        let later = Date().addingTimeInterval(3600)
        #expect(sessions.expire(timeout: .seconds(60), now: later) == 1)
        #expect(sessions.entry(busy.id) != nil && sessions.entry(idle.id) == nil)
        busy.requestEnded()
        #expect(sessions.expire(timeout: .seconds(60), now: later.addingTimeInterval(3600)) == 1)
        #expect(sessions.count == 0)
    }

    @Test func heartbeatsKeepIdleStreamsAliveAndShutdownCancelsRuns() async throws {
        let executor = GatedExecutor()
        var configuration = SluiceHTTPServer.Configuration(port: 0)
        configuration.heartbeatInterval = .milliseconds(20)
        try await ServerHarness.withServer(executor: executor, configuration: configuration) { port, server in
            let (_, reader, _) = try await HTTP.sse(port, "POST", "/v1/plans/echo/runs", json: ["text": "hi"])
            let runID = try #require(await executor.waiting.take())
            var comment: ReceivedSSE?
            while comment == nil, let event = await reader.next(includeComments: true) {
                if event.event == ":" { comment = event }
            }
            #expect(comment?.data == "heartbeat")
            // SIGTERM's path: the grace period (zero here) passes, the run is cancelled and says why.
            await server.shutdown()
            let record = try #require(server.mcp.runs.registry.run(id: runID))
            #expect(await record.waitForResult().status == .cancelled)
            #expect(record.cancelReason == "server shutting down")
            #expect(record.recordedEvents.last?.type == .runCancelled)
        }
    }
}
