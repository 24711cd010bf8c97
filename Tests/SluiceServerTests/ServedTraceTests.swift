import Foundation
import SluiceFakeServices
import SluiceJSON
import Testing

/// A real `sluice serve` with `OTEL_EXPORTER_OTLP_ENDPOINT` set: each run is a trace whose
/// workflow span continues the caller's `traceparent` — the HTTP header of a REST request, the
/// `_meta.traceparent` of an MCP call, else its HTTP header — and what is still buffered is
/// exported on shutdown.
@Suite(.serialized, .timeLimit(.minutes(3))) struct ServedTraceTests {
    static let restTrace = "0af7651916cd43dd8448eb211c80319c"
    static let mcpTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
    static let headerTrace = "5c1e8a7d2f4b4e0c9a3d6f8b1e2c4a70"
    static let callerSpan = "b7ad6b7169203331"

    @Test func servedRunsContinueTheCallersTraceAndAreFlushedOnShutdown() async throws {
        let receiver = try OTLPTraceReceiver()
        let home = ServerRestartProcessTests.scratchHome()
        defer { ServerRestartProcessTests.remove(home) }
        let server = try await ServeProcess(
            home: home, delayMilliseconds: 1, environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint])
        defer { server.terminate() }

        // REST: the traceparent header.
        let started = try await HTTP.request(
            server.port, "POST", "/v1/plans/news_report/runs",
            headers: ["Accept": "application/json", "traceparent": "00-\(Self.restTrace)-\(Self.callerSpan)-01"],
            json: ["task": "AI agents", "max_iterations": 1])
        #expect(started.status == 202, "\(started.text)")
        let runID = try #require(started.json?["run_id"]?.stringValue)

        // MCP: `_meta.traceparent` of a tools/call (answered when the run ends).
        var params: JSONObject = ["name": "news_report", "arguments": ["task": "AI agents", "max_iterations": 1]]
        params["_meta"] = ["traceparent": .string("00-\(Self.mcpTrace)-\(Self.callerSpan)-01")]
        let answer = try await MCPModernRestartTests.request(server.port, "tools/call", params, id: 1, capabilities: .object(JSONObject()))
        #expect(answer["result"]?["isError"] == false, "\(answer.serialized(pretty: false).prefix(300))")
        // MCP over HTTP: the traceparent header, when `_meta` has none.
        let body: JSONValue = [
            "jsonrpc": "2.0", "id": 2, "method": "tools/call",
            "params": MCPTestClient.modernParams(["name": "news_report", "arguments": ["task": "AI agents", "max_iterations": 1]]),
        ]
        var headers = HTTPTransport.modernHeaders(for: body)
        headers["Accept"] = "application/json"
        headers["traceparent"] = "00-\(Self.headerTrace)-\(Self.callerSpan)-01"
        let byHeader = try await HTTP.request(server.port, "POST", "/mcp", headers: headers, json: body)
        #expect(byHeader.json?["result"]?["isError"] == false, "\(byHeader.text.prefix(300))")
        for _ in 0..<200 {
            let summary = try await HTTP.request(server.port, "GET", "/v1/runs/\(runID)")
            if summary.json?["status"] != "running" { break }
            try await Task.sleep(for: .milliseconds(50))
        }

        // SIGTERM: the server drains and exports what its batch processor still holds.
        await server.stop()
        let spans = receiver.spans
        for (trace, label) in [(Self.restTrace, "REST"), (Self.mcpTrace, "MCP"), (Self.headerTrace, "MCP header")] {
            let inTrace = spans.filter { $0.traceID == trace }
            let workflow = try #require(inTrace.first { $0.string("gen_ai.operation.name") == "invoke_workflow" }, "\(label): \(spans.count) spans")
            #expect(workflow.parentSpanID == Self.callerSpan, "\(label)")
            #expect(workflow.string("gen_ai.workflow.name") == "news_report")
            #expect(workflow.string("sluice.run.status") == "completed")
            #expect(inTrace.contains { $0.string("gen_ai.operation.name") == "chat" }, "\(label) has its model calls")
            #expect(inTrace.contains { $0.string("sluice.step.id") != nil }, "\(label) has its steps")
        }
        let rest = spans.first { $0.traceID == Self.restTrace && $0.string("gen_ai.operation.name") == "invoke_workflow" }
        #expect(rest?.string("sluice.run.id") == runID)
    }
}
