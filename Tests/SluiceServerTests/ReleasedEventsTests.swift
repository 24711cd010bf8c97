import Foundation
import SluiceEngine
import SluiceJSON
import SluiceRunLog
import SluiceStore
import Testing

@testable import SluiceServer

/// With a durable store, a finished run's record lets its events go (the registry keeps up to a
/// thousand finished runs, and their event arrays were most of a busy server's memory); every
/// replay — REST and the web page's `/v1/runs/{id}/events`, MCP call streams resumed past
/// their buffer, a subscriber of the record — is read back from the store, whole. Without a
/// store the record keeps them, as before.
@Suite(.timeLimit(.minutes(1))) struct ReleasedEventsTests {
    static func storeFolder() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("sluice-released-\(UUID().uuidString)").path
    }

    static func remove(_ folder: String) {
        do { try FileManager.default.removeItem(atPath: folder) } catch { print("could not remove \(folder): \(error)") }
    }

    /// Runs `echo` over REST + SSE: the run's id and the events its live stream sent.
    static func runEcho(_ port: Int, times: Int) async throws -> (String, [ReceivedSSE]) {
        let (head, reader, _) = try await HTTP.sse(port, "POST", "/v1/plans/echo/runs", json: ["inputs": ["text": "hello", "times": .integer(Int64(times))]])
        #expect(head.status == 200)
        let runID = try #require(head.headers["x-run-id"])
        return (runID, await HTTP.drain(reader))
    }

    /// Resume points: from the start, after the first event, and before the last.
    static let resumePoints = [0, 1, -1]

    @Test(arguments: resumePoints)
    func aFinishedRunReplaysWholeFromTheStoreAfterItsEventsAreLetGo(resumeFrom: Int) async throws {
        let folder = Self.storeFolder()
        defer { Self.remove(folder) }
        let executor = DurableRunExecutor(engine: try ServerHarness.engineExecutor(), store: OpenedStore(try SQLiteRunStore(home: folder)))
        try await ServerHarness.withServer(executor: executor) { port, server in
            let (runID, live) = try await Self.runEcho(port, times: 3)
            #expect(live.count >= 4)
            #expect(live.last?.event == "final_result")
            let record = try #require(server.mcp.runs.registry.run(id: runID))
            #expect(await record.waitForResult().status == .completed)
            #expect(record.eventsReleased, "the store holds the whole log: the record let its events go")
            #expect(record.recordedEvents.isEmpty)
            #expect(record.eventCount == live.count && record.lastSeq == live.count)

            let after = resumeFrom >= 0 ? resumeFrom : live.count - 1
            let headers = after > 0 ? ["Last-Event-ID": String(after)] : [:]
            let (head, reader, _) = try await HTTP.sse(port, "GET", "/v1/runs/\(runID)/events", headers: headers)
            #expect(head.status == 200)
            #expect(await HTTP.drain(reader) == Array(live.dropFirst(after)), "replayed after \(after)")

            // The record's own subscribers (MCP calls, the seeds' session route) read the store too.
            var seqs: [Int] = []
            for await event in record.events(after: after) { seqs.append(event.seq) }
            #expect(seqs == Array((after + 1)...live.count))

            let summary = try await HTTP.request(port, "GET", "/v1/runs/\(runID)")
            #expect(try JSONParser.parse(summary.body)["events"] == .integer(Int64(live.count)))
        }
    }

    /// MCP: a `tools/call` stream resumed with `Last-Event-ID` after its run's record let the
    /// events go (and its buffer of 2 let most notifications go) gets the same bytes again.
    @Test func anMCPCallStreamResumesWholeAfterItsRunLetItsEventsGo() async throws {
        let folder = Self.storeFolder()
        defer { Self.remove(folder) }
        let executor = DurableRunExecutor(engine: try ServerHarness.engineExecutor(), store: OpenedStore(try SQLiteRunStore(home: folder)))
        let configuration = SluiceHTTPServer.Configuration(port: 0, replayBufferSize: 2)
        try await ServerHarness.withServer(executor: executor, configuration: configuration) { port, server in
            let session = try await MCPStoreReplayTests.openSession(port)
            let call = MCPStoreReplayTests.call("echo", ["text": "hello", "times": 2])
            let (head, reader, _) = try await HTTP.sse(port, "POST", "/mcp", headers: ["MCP-Session-Id": session], json: call)
            #expect(head.status == 200)
            let original = await HTTP.drain(reader)
            #expect(original.last?.data.contains(#""isError":false"#) == true)
            let record = try #require(server.mcp.runs.registry.runs(user: "anonymous").first)
            _ = await record.waitForResult()
            #expect(record.eventsReleased && record.recordedEvents.isEmpty)
            let lastSeen = try #require(original.first?.id)
            let (resumedHead, resumedReader, _) = try await HTTP.sse(port, "GET", "/mcp", headers: ["MCP-Session-Id": session, "Last-Event-ID": lastSeen])
            #expect(resumedHead.status == 200)
            #expect(await HTTP.drain(resumedReader) == Array(original.dropFirst()))
        }
    }

    /// A real `sluice serve` (its store in `SLUICE_HOME`): a finished run replays over REST as
    /// its live stream sent it, whole and from a `Last-Event-ID`.
    @Test func aServedRunReplaysWholeAfterItEnds() async throws {
        let home = Self.storeFolder()
        defer { Self.remove(home) }
        let server = try await ServeProcess(home: home, delayMilliseconds: 0, arguments: ["--documents", TestPaths.repository.path])
        defer { server.terminate() }
        let inputs: JSONValue = ["inputs": ["document_path": "samples/contract.md"]]
        let (head, reader, _) = try await HTTP.sse(server.port, "POST", "/v1/plans/extraction/runs", json: inputs)
        #expect(head.status == 200)
        let runID = try #require(head.headers["x-run-id"])
        let live = await HTTP.drain(reader)
        #expect(live.count >= 4)
        #expect(live.last?.event == "final_result", "\(live.last?.data ?? "no events")")
        for after in [0, 2] {
            let headers = after > 0 ? ["Last-Event-ID": String(after)] : [:]
            let (_, replay, _) = try await HTTP.sse(server.port, "GET", "/v1/runs/\(runID)/events", headers: headers)
            #expect(await HTTP.drain(replay) == Array(live.dropFirst(after)), "replayed after \(after)")
        }
        await server.stop()
    }

    @Test func withoutAStoreAFinishedRunKeepsItsEvents() async throws {
        try await ServerHarness.withServer { port, server in
            let (runID, live) = try await Self.runEcho(port, times: 2)
            let record = try #require(server.mcp.runs.registry.run(id: runID))
            _ = await record.waitForResult()
            #expect(!record.eventsReleased)
            #expect(record.recordedEvents.map(\.seq) == Array(1...live.count))
            let (_, reader, _) = try await HTTP.sse(port, "GET", "/v1/runs/\(runID)/events", headers: ["Last-Event-ID": "1"])
            #expect(await HTTP.drain(reader) == Array(live.dropFirst()))
        }
    }

    /// A record whose store lacks some of its events (unwritten) keeps them all.
    @Test func aLogTheStoreDoesNotHoldWholeIsNotLetGo() async throws {
        let folder = Self.storeFolder()
        defer { Self.remove(folder) }
        let store = try SQLiteRunStore(home: folder)
        let executor = DurableRunExecutor(engine: try ServerHarness.engineExecutor(), store: OpenedStore(store))
        try await store.createRun(NewRun(
            id: "r1", plan: PlanIdentity(name: "echo", path: "echo.json", contentHash: "0"), inputs: ["text": "x"], options: ["origin": "server"],
            user: "anonymous"))
        try await store.append([RunEvent(seq: 1, runID: "r1", time: Date(), type: .runStarted, data: ["plan": "echo"])])
        #expect(await executor.completeLog(runID: "r1", through: 1) == nil, "the run has not ended in the store")
        try await store.append([RunEvent(seq: 2, runID: "r1", time: Date(), type: .runCompleted, data: ["result": ["text": "x"]])])
        #expect(await executor.completeLog(runID: "r1", through: 3) == nil, "seq 3 is not stored")
        let log = try #require(await executor.completeLog(runID: "r1", through: 2))
        #expect(await executor.completeLog(runID: "missing", through: 0) == nil)

        // Read back a page at a time.
        let record = RunRecord(id: "r1", planName: "echo", user: "anonymous", inputs: .object(JSONObject()))
        record.finish(RunResult(status: .completed, billing: ["billable": true]), log: StoredLog(store: log.store, runID: "r1", pageSize: 1))
        var seqs: [Int] = []
        for await event in record.events() { seqs.append(event.seq) }
        #expect(seqs == [1, 2])
    }
}
