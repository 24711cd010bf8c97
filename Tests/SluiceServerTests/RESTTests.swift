import Foundation
import SluiceJSON
import Testing
@testable import SluiceServer

/// REST + SSE over real sockets, against an in-process server on an OS-assigned port.
@Suite(.timeLimit(.minutes(3))) struct RESTTests {
    static let keys = SluiceHTTPServer.Configuration(port: 0, apiKeys: APIKeys([("alice-key", "alice"), ("bob-key", "bob")]))
    static let alice = ["Authorization": "Bearer alice-key"]
    static let bob = ["X-API-Key": "bob-key"]

    @Test func authGuardsEveryRouteButHealthz() async throws {
        try await ServerHarness.withServer(executor: GatedExecutor(), configuration: Self.keys) { port, _ in
            #expect(try await HTTP.request(port, "GET", "/healthz").status == 200)
            #expect(try await HTTP.request(port, "GET", "/v1/plans").status == 401)
            #expect(try await HTTP.request(port, "GET", "/v1/plans", headers: ["Authorization": "Bearer wrong"]).status == 401)
            #expect(try await HTTP.request(port, "GET", "/metrics").status == 401)
            #expect(try await HTTP.request(port, "POST", "/mcp", json: ["jsonrpc": "2.0", "id": 1, "method": "ping"]).status == 401)
            let plans = try await HTTP.request(port, "GET", "/v1/plans", headers: Self.alice)
            #expect(plans.status == 200)
            let names = plans.json?["plans"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            #expect(names.contains("echo") && names.contains("news_report"))
            #expect(try await HTTP.request(port, "GET", "/v1/plans", headers: Self.bob).status == 200)
        }
    }

    @Test func runsBelongToTheirUser() async throws {
        let executor = GatedExecutor()
        try await ServerHarness.withServer(executor: executor, configuration: Self.keys) { port, _ in
            let started = try await HTTP.request(port, "POST", "/v1/plans/echo/runs", headers: Self.alice, json: ["text": "hi"])
            #expect(started.status == 202)
            let runID = try #require(started.json?["run_id"]?.stringValue)
            #expect(try await HTTP.request(port, "GET", "/v1/runs/\(runID)", headers: Self.bob).status == 404)
            #expect(try await HTTP.request(port, "GET", "/v1/runs/\(runID)/events", headers: Self.bob).status == 404)
            #expect(try await HTTP.request(port, "DELETE", "/v1/runs/\(runID)", headers: Self.bob).status == 404)
            #expect(try await HTTP.request(port, "GET", "/mcp/streaming/sessions/\(runID)", headers: Self.bob).status == 404)
            let mine = try await HTTP.request(port, "GET", "/v1/runs/\(runID)", headers: Self.alice)
            #expect(mine.status == 200)
            #expect(mine.json?["status"] == "running")

            _ = await executor.waiting.take()
            let cancelled = try await HTTP.request(port, "DELETE", "/v1/runs/\(runID)", headers: Self.alice)
            #expect(cancelled.status == 202)
            let (_, reader, _) = try await HTTP.sse(port, "GET", "/v1/runs/\(runID)/events", headers: Self.alice)
            let events = await HTTP.drain(reader)
            let last = try #require(events.last)
            #expect(last.event == "error")
            #expect(try JSONParser.parse(last.data)["status"] == "cancelled")
            let ended = try await HTTP.request(port, "GET", "/v1/runs/\(runID)", headers: Self.alice)
            #expect(ended.json?["status"] == "cancelled")
            #expect(try await HTTP.request(port, "DELETE", "/v1/runs/\(runID)", headers: Self.alice).status == 409)
        }
    }

    @Test func sseSurvivesADisconnectAndResumesWithLastEventID() async throws {
        let executor = GatedExecutor()
        try await ServerHarness.withServer(executor: executor) { port, server in
            let (head, reader, connection) = try await HTTP.sse(port, "POST", "/v1/plans/echo/runs", json: ["text": "hi"])
            #expect(head.status == 200)
            #expect(head.headers["content-type"]?.hasPrefix("text/event-stream") == true)
            let runID = try #require(head.headers["x-run-id"])
            var seen: [ReceivedSSE] = []
            for _ in 0..<3 { if let event = await reader.next() { seen.append(event) } }
            #expect(seen.map(\.id) == ["1", "2", "3"])
            #expect(seen.allSatisfy { $0.event == "status_update" })
            let first = try JSONParser.parse(seen[0].data)
            #expect(first["task_id"]?.stringValue == runID)
            #expect(first["status"] == "INIT")
            #expect(try JSONParser.parse(seen[1].data)["status"] == "EXTRACTION")
            #expect(try JSONParser.parse(seen[2].data)["text"] == "line one\nline two")

            // The client goes away; the run goes on and finishes.
            connection.disconnect()
            _ = await executor.waiting.take()
            executor.open(runID, .complete)
            let record = try #require(server.mcp.runs.registry.run(id: runID))
            _ = await record.waitForResult()

            let (_, resumed, _) = try await HTTP.sse(port, "GET", "/v1/runs/\(runID)/events", headers: ["Last-Event-ID": "3"])
            let rest = await HTTP.drain(resumed)
            #expect(rest.map(\.id) == ["4", "5", "6"])
            let final = try #require(rest.last)
            #expect(final.event == "final_result")
            let payload = try JSONParser.parse(final.data)
            #expect(payload["task_id"]?.stringValue == runID)
            #expect(payload["user_id"] == "anonymous")
            #expect(payload["status"] == "completed")
            #expect(payload["billing"]?["billable"] == true)
            #expect(payload["result"] == ["answer": 42, "text": "multi\nline"])
        }
    }

    @Test func failedRunsEndWithTheSeedErrorEvent() async throws {
        let executor = GatedExecutor()
        try await ServerHarness.withServer(executor: executor) { port, _ in
            let (_, reader, _) = try await HTTP.sse(port, "POST", "/v1/extract", json: ["document_path": "samples/contract.md", "user_id": "u-7"])
            let runID = try #require(await executor.waiting.take())
            executor.open(runID, .fail)
            let events = await HTTP.drain(reader)
            let last = try #require(events.last)
            #expect(last.event == "error")
            let payload = try JSONParser.parse(last.data)
            #expect(payload["task_id"]?.stringValue == runID)
            #expect(payload["user_id"] == "u-7")
            #expect(payload["document_path"] == "samples/contract.md")
            #expect(payload["status"] == "failed")
            #expect(payload["billing"]?["billable"] == false)
            #expect(payload["error_message"]?.stringValue?.contains("the model went away") == true)
            #expect(events.allSatisfy { $0.id != nil })
        }
    }

    @Test func extractionRunsTheRealPlanOffline() async throws {
        try await ServerHarness.withServer { port, _ in
            let (head, reader, _) = try await HTTP.sse(port, "POST", "/v1/extract", json: ["document_path": "samples/contract.md", "user_id": "user-1"])
            #expect(head.status == 200)
            let events = await HTTP.drain(reader)
            #expect(try JSONParser.parse(try #require(events.first).data)["status"] == "INIT")
            let statuses = events.filter { $0.event == "status_update" }.compactMap { try? JSONParser.parse($0.data)["status"]?.stringValue }
            #expect(statuses.contains("PLANNING") && statuses.contains("EXTRACTION"))
            let final = try #require(events.last)
            #expect(final.event == "final_result", "\(final.data)")
            let payload = try JSONParser.parse(final.data)
            #expect(payload["user_id"] == "user-1")
            #expect(payload["result"]?["status"] == "completed")
            #expect(payload["billing"] != nil)
            let ids = events.compactMap { $0.id.flatMap(Int.init) }
            #expect(ids == Array(1...events.count))
        }
    }

    @Test func orchestratorAndSessionsFollowSeed001() async throws {
        try await ServerHarness.withServer { port, _ in
            let (head, reader, _) = try await HTTP.sse(port, "POST", "/mcp/streaming/orchestrator", json: [
                "task": "AI agents this week", "task_type": "news_report", "kwargs": ["days": 3, "max_iterations": 1, "auto_confirm": true],
            ])
            #expect(head.status == 200)
            let sessionID = try #require(head.headers["x-session-id"])
            let messages = await HTTP.drain(reader).map { try? JSONParser.parse($0.data) }
            let first = try #require(messages.first ?? nil)
            #expect(first["method"] == "notifications/message")
            #expect(first["params"]?["data"]?["msg"]?["details"]?["session_id"]?.stringValue == sessionID)
            let final = try #require(messages.last ?? nil)
            #expect(final["result"]?["isError"] == false)
            #expect(final["result"]?["structuredContent"]?["metadata"]?["sections_count"] != nil)

            let session = try await HTTP.request(port, "GET", "/mcp/streaming/sessions/\(sessionID)")
            #expect(session.json?["session_id"]?.stringValue == sessionID)
            #expect(session.json?["status"] == "completed")

            let invalid = try await HTTP.request(port, "POST", "/mcp/streaming/orchestrator", json: ["task_type": "nope"])
            #expect(invalid.status == 400)
        }
    }

    @Test func inputsAndBodiesAreChecked() async throws {
        var configuration = SluiceHTTPServer.Configuration(port: 0)
        configuration.maxBodyBytes = 2048
        try await ServerHarness.withServer(executor: GatedExecutor(), configuration: configuration) { port, _ in
            let invalid = try await HTTP.request(port, "POST", "/v1/plans/echo/runs", json: ["times": "x", "other": 1])
            #expect(invalid.status == 400)
            let fields = Set(invalid.json?["details"]?.arrayValue?.compactMap { $0["field"]?.stringValue } ?? [])
            #expect(fields == ["text", "times", "other"])
            // An item schema whose pattern needs backtracking is refused before the run starts.
            let lookaround = try await HTTP.request(port, "POST", "/v1/plans/extraction/runs", json: [
                "document_path": "x.txt", "schema": ["type": "object", "properties": ["id": ["type": "string", "pattern": "^(?!0)"]]],
            ])
            #expect(lookaround.status == 400)
            #expect(lookaround.json?["details"]?[0]?["field"] == "schema")
            #expect(lookaround.json?["details"]?[0]?["message"]?.stringValue?.hasSuffix(
                "uses a negative lookahead ((?!…)), which Sluice does not support: patterns run on a linear-time engine (at /properties/id/pattern)") == true)
            let big = try await HTTP.request(port, "POST", "/v1/plans/echo/runs", json: ["text": .string(String(repeating: "x", count: 4096))])
            #expect(big.status == 413)
            #expect(try await HTTP.request(port, "POST", "/v1/plans/nope/runs", json: ["text": "x"]).status == 404)
            #expect(try await HTTP.request(port, "GET", "/v1/runs/run_missing").status == 404)
        }
    }

    @Test func metricsCountRunsTokensStepsAndRequests() async throws {
        let executor = GatedExecutor()
        try await ServerHarness.withServer(executor: executor) { port, server in
            let started = try await HTTP.request(port, "POST", "/v1/plans/echo/runs", json: ["text": "hi"])
            let runID = try #require(started.json?["run_id"]?.stringValue)
            _ = await executor.waiting.take()
            let during = try await HTTP.request(port, "GET", "/metrics")
            #expect(during.text.contains("sluice_runs_active 1"))
            executor.open(runID, .complete)
            let (_, reader, _) = try await HTTP.sse(port, "GET", "/v1/runs/\(runID)/events")
            _ = await HTTP.drain(reader)
            let record = try #require(server.mcp.runs.registry.run(id: runID))
            _ = await record.waitForResult()
            let metrics = try await HTTP.request(port, "GET", "/metrics")
            #expect(metrics.headers["content-type"]?.hasPrefix("text/plain") == true)
            let text = metrics.text
            #expect(text.contains(#"sluice_runs_total{plan="echo",outcome="completed"} 1"#))
            #expect(text.contains("sluice_runs_active 0"))
            #expect(text.contains(#"sluice_step_duration_seconds_bucket{plan="echo",le="2.5"} 1"#))
            #expect(text.contains(#"sluice_step_duration_seconds_bucket{plan="echo",le="1"} 0"#))
            #expect(text.contains(#"sluice_model_tokens_total{model="fake:gated",direction="input"} 10"#))
            #expect(text.contains(#"sluice_http_requests_total{method="POST",route="/v1/plans/{name}/runs",status="202"} 1"#))
        }
    }
}
