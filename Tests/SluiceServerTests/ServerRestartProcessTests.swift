import Foundation
import SluiceEngine
import SluiceJSON
import SluiceRunLog
@testable import SluiceServer
import SluiceStore
import Testing

/// A real `sluice serve` SIGKILLed mid-run and started again on the same `SLUICE_HOME`: the
/// server resumes the run, and a client takes up its streams where it left them — the MCP
/// session with its `tools/call` stream (`GET /mcp` + `Last-Event-ID`), and
/// `GET /v1/runs/{id}/events` — with nothing lost and nothing twice, then the live rest and
/// the end (the call's response, the seed's `final_result`).
@Suite(.serialized, .timeLimit(.minutes(5))) struct ServerRestartProcessTests {
    static let callID: JSONValue = 7

    /// Under a loaded machine the test's task may wait long between reading the progress and
    /// killing the server, and the run may have finished meanwhile (seen in a full-suite run):
    /// then there is nothing to resume, so the scenario runs again with a slower model.
    @Test func anMCPCallStreamResumesAcrossAServerRestart() async throws {
        for delay in [100, 400, 1000] {
            if try await Self.mcpCallStreamResumes(delayMilliseconds: delay) { return }
        }
        Issue.record("the run finished before the server was killed at every model speed tried")
    }

    /// The scenario; false when the run had ended before the kill (nothing was checked).
    static func mcpCallStreamResumes(delayMilliseconds: Int) async throws -> Bool {
        let home = Self.scratchHome()
        defer { Self.remove(home) }
        let first = try await ServeProcess(home: home, delayMilliseconds: delayMilliseconds)
        let accept = "application/json, text/event-stream"
        let initialize: JSONValue = [
            "jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": ["protocolVersion": "2025-11-25", "capabilities": .object(JSONObject()), "clientInfo": ["name": "restart-test", "version": "1"]],
        ]
        let opened = try await HTTP.request(first.port, "POST", "/mcp", headers: ["Accept": accept], json: initialize)
        #expect(opened.status == 200, "\(opened.text)")
        let session = try #require(opened.headers["mcp-session-id"])
        let initialized = try await HTTP.request(
            first.port, "POST", "/mcp", headers: ["Accept": accept, "MCP-Session-Id": session],
            json: ["jsonrpc": "2.0", "method": "notifications/initialized"])
        #expect(initialized.status == 202)

        let call: JSONValue = [
            "jsonrpc": "2.0", "id": Self.callID, "method": "tools/call",
            "params": ["name": "news_report", "arguments": ["task": "AI agents"], "_meta": ["progressToken": "report-1"]],
        ]
        let (head, reader, _) = try await HTTP.sse(first.port, "POST", "/mcp", headers: ["MCP-Session-Id": session], json: call)
        #expect(head.status == 200)
        // Read until a few steps have finished, then kill the server mid-run.
        var before: [ReceivedSSE] = []
        while let event = await reader.next() {
            before.append(event)
            if Self.progress(of: event) ?? 0 >= 2 { break }
        }
        first.kill()
        let runID = try #require(before.lazy.compactMap(Self.runID).first, "no started message in \(before.map(\.data))")
        #expect(before.allSatisfy { !$0.data.contains(#""result""#) }, "the call ended before the kill")
        let stored = try await SQLiteRunStore(home: home).events(runID: runID, after: 0, limit: nil)
        if stored.contains(where: { $0.type.endsRun }) { return false }

        let second = try await ServeProcess(home: home)
        defer { second.stop() }
        let lastSeen = try #require(before.last?.id)
        let (resumedHead, resumedReader, _) = try await HTTP.sse(
            second.port, "GET", "/mcp", headers: ["MCP-Session-Id": session, "Last-Event-ID": lastSeen])
        #expect(resumedHead.status == 200, "\(second.stderr)")
        let after = await HTTP.drain(resumedReader)

        // The call's response, for the original request id, built like a live call's.
        let response = try JSONParser.parse(try #require(after.last?.data))
        #expect(response["id"] == Self.callID)
        #expect(response["result"]?["isError"] == false, "\(response.serialized(pretty: false).prefix(300))")
        #expect(response["result"]?["structuredContent"]?.objectValue != nil)

        // The run was resumed by the restarted server and its log is one gapless run.
        let store = try SQLiteRunStore(home: home)
        let log = try await store.events(runID: runID, after: 0, limit: nil)
        #expect(log.map(\.seq) == Array(1...log.count))
        #expect(log.contains { $0.type == .runResumed }, "\(log.map(\.type.rawValue))")
        #expect(log.last?.type == .runCompleted)

        // Every notification of the run, rendered from its stored log as the call renders
        // them, came exactly once, in order, under its id: those before the kill on the first
        // stream, the rest after the restart (no gap, no duplicate).
        let notifications = (before.dropFirst() + after.dropLast()).map { ($0.id ?? "", $0.data) }
        #expect(before.first?.id == "1_0_0")
        var renderer = MCPEventRenderer(progressToken: "report-1")
        var expected: [(String, String)] = []
        for event in log {
            for (index, rendered) in renderer.renderedNotifications(for: event, minimumLevel: .info).enumerated() {
                expected.append(("1_\(event.seq)_\(index)", rendered.message.serialized))
            }
        }
        #expect(notifications.map(\.0) == expected.map(\.0))
        #expect(notifications.map(\.1) == expected.map(\.1))
        // Progress counts every finished step once: 1, 2, 3… with no gap across the restart.
        let progress = (before + after).compactMap(Self.progress)
        #expect(progress == Array(1...progress.count))
        #expect(after.dropLast().compactMap(Self.progress).first == (before.compactMap(Self.progress).last ?? 0) + 1)
        return true
    }

    @Test func runEventsResumeAcrossAServerRestart() async throws {
        let home = Self.scratchHome()
        defer { Self.remove(home) }
        let first = try await ServeProcess(home: home)
        let started = try await HTTP.request(first.port, "POST", "/v1/plans/news_report/runs", json: ["inputs": ["task": "AI agents"]])
        #expect(started.status == 202, "\(started.text)")
        let runID = try #require(started.json?["run_id"]?.stringValue)
        let (head, reader, _) = try await HTTP.sse(first.port, "GET", "/v1/runs/\(runID)/events")
        #expect(head.status == 200)
        var before: [ReceivedSSE] = []
        while let event = await reader.next() {
            before.append(event)
            if before.filter({ $0.data.contains(#""type":"step.completed""#) }).count >= 3 { break }
        }
        first.kill()
        #expect(before.allSatisfy { $0.event == "status_update" })

        let second = try await ServeProcess(home: home)
        defer { second.stop() }
        let lastSeen = try #require(before.last?.id)
        let (resumedHead, resumedReader, _) = try await HTTP.sse(second.port, "GET", "/v1/runs/\(runID)/events", headers: ["Last-Event-ID": lastSeen])
        #expect(resumedHead.status == 200)
        let after = await HTTP.drain(resumedReader)
        #expect(after.last?.event == "final_result", "\(after.last?.data.prefix(300) ?? "nothing after the restart")")

        // Ids are the run's seq: 1…N once each, across the restart, and N is the stored log.
        let ids = (before + after).compactMap { $0.id.flatMap { Int($0) } }
        #expect(ids == Array(1...ids.count))
        let log = try await SQLiteRunStore(home: home).events(runID: runID, after: 0, limit: nil)
        #expect(log.count == ids.count)
        #expect(log.contains { $0.type == .runResumed })
    }

    /// SIGTERM on a SQLite server (no other replica to hand runs to): past `--grace` the
    /// running run is cancelled and its stored log ends with `run.cancelled`.
    @Test func SIGTERMCancelsRunsPastTheGracePeriodOnSQLite() async throws {
        let home = Self.scratchHome()
        defer { Self.remove(home) }
        let first = try await ServeProcess(home: home, delayMilliseconds: 100, arguments: ["--grace", "0"])
        let started = try await HTTP.request(first.port, "POST", "/v1/plans/news_report/runs", json: ["inputs": ["task": "AI agents"]])
        #expect(started.status == 202, "\(started.text)")
        let runID = try #require(started.json?["run_id"]?.stringValue)
        let (_, reader, _) = try await HTTP.sse(first.port, "GET", "/v1/runs/\(runID)/events")
        while let event = await reader.next() {
            if event.data.contains(#""type":"step.completed""#) { break }
        }
        first.stop()
        let store = try SQLiteRunStore(home: home)
        #expect(try await store.run(id: runID)?.status == .cancelled)
        #expect(try await store.events(runID: runID, after: 0, limit: nil).last?.type == .runCancelled)
    }

    // MARK: Helpers

    static func scratchHome() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("sluice-restart-\(UUID().uuidString)").path
    }

    static func remove(_ home: String) {
        do { try FileManager.default.removeItem(atPath: home) } catch { print("could not remove \(home): \(error)") }
    }

    /// The `progress` of a `notifications/progress` event.
    static func progress(of event: ReceivedSSE) -> Int? {
        guard let message = try? JSONParser.parse(event.data), message["method"] == "notifications/progress" else { return nil }
        return message["params"]?["progress"]?.integerValue.map(Int.init)
    }

    /// The run id the first (`started`) message carries.
    static func runID(of event: ReceivedSSE) -> String? {
        guard let message = try? JSONParser.parse(event.data) else { return nil }
        return message["params"]?["data"]?["msg"]?["details"]?["session_id"]?.stringValue
    }
}
