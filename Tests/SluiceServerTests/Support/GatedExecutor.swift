import Foundation
import SluiceEngine
import SluiceJSON
import SluiceRunLog
@testable import SluiceServer

/// A fake executor that emits a few events, then waits at a gate the test opens: the test
/// decides where a run is, with no timing involved.
final class GatedExecutor: RunExecutor {
    enum Decision: Sendable {
        case complete, fail, cancel
    }

    private let gates = Locked<[String: Mailbox<Decision>]>([:])
    /// Announces each run as it reaches its gate.
    let waiting = Mailbox<String>()

    private func gate(_ runID: String) -> Mailbox<Decision> {
        gates.withLock { gates in
            if let gate = gates[runID] { return gate }
            let gate = Mailbox<Decision>()
            gates[runID] = gate
            return gate
        }
    }

    func open(_ runID: String, _ decision: Decision = .complete) {
        gate(runID).put(decision)
    }

    func execute(_ request: RunRequest, sink: any EventSink) async -> RunResult {
        var seq = 0
        func emit(_ type: EventType, step: String? = nil, _ data: JSONValue = .object(JSONObject())) async {
            seq += 1
            await sink.receive(RunEvent(seq: seq, runID: request.runID, time: Date(), type: type, step: step, data: data))
        }
        await emit(.runStarted, ["plan": .string(request.plan.name), "title": "Gated", "inputs": request.inputs])
        await emit(.stepStarted, step: "work", ["kind": "llm", "status": "EXTRACTION", "message": "Working"])
        await emit(.stepDelta, step: "work", ["text": "line one\nline two"])
        let gate = self.gate(request.runID)
        waiting.put(request.runID)
        let decision = await withTaskCancellationHandler {
            await gate.take() ?? .cancel
        } onCancel: {
            gate.put(.cancel)
        }
        let usage: JSONValue = ["input_tokens": 10, "output_tokens": 5, "total_tokens": 15, "cost_usd": 0.0, "model_calls": 1]
        switch decision {
        case .complete:
            let result: JSONValue = ["answer": 42, "text": "multi\nline"]
            await emit(.modelUsage, step: "work", ["provider": "fake", "model": "gated", "input_tokens": 10, "output_tokens": 5, "cost_usd": .null])
            await emit(.stepCompleted, step: "work", ["output": "done", "duration_ms": 1200])
            await emit(.runCompleted, ["result": result, "usage": usage, "billing": ["billable": true, "units": 1], "duration_ms": 1300])
            return RunResult(status: .completed, result: result, billing: ["billable": true, "units": 1], usage: usage)
        case .fail:
            await emit(.stepFailed, step: "work", ["error": ["type": "provider_error", "message": "the model went away"], "duration_ms": 5])
            await emit(.runFailed, ["error": ["type": "step_failed", "message": "step 'work' failed: the model went away"], "usage": usage, "billing": ["billable": false], "duration_ms": 6])
            return RunResult(status: .failed, errorType: "step_failed", errorMessage: "step 'work' failed: the model went away", billing: ["billable": false], usage: usage)
        case .cancel:
            await emit(.runCancelled, ["reason": "cancelled", "usage": usage, "duration_ms": 6])
            return RunResult(status: .cancelled, errorType: "cancelled", errorMessage: "cancelled", billing: ["billable": false], usage: usage)
        }
    }
}

/// HTTP helpers over raw sockets.
enum HTTP {
    struct Answer: Sendable {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
        var json: JSONValue? { try? JSONParser.parse(body) }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// - Parameter host: the `Host` header (`127.0.0.1:PORT` by default); a `Content-Type` in
    ///   `headers` replaces the JSON one.
    static func request(_ port: Int, _ method: String, _ path: String, headers: [String: String] = [:], json: JSONValue? = nil, host: String? = nil) async throws -> Answer {
        var headers = headers
        if json != nil, headers["Content-Type"] == nil { headers["Content-Type"] = "application/json" }
        let connection = try RawHTTPConnection(port: port, method: method, path: path, headers: headers, body: json?.jsonBytes ?? [], host: host)
        let head = try await connection.head()
        return Answer(status: head.status, headers: head.headers, body: await connection.body())
    }

    /// Opens an SSE request; returns its head, a reader and the connection (to drop it).
    static func sse(_ port: Int, _ method: String, _ path: String, headers: [String: String] = [:], json: JSONValue? = nil) async throws -> (RawHTTPConnection.Head, SSEReader, RawHTTPConnection) {
        var headers = headers
        headers["Accept"] = "text/event-stream"
        if json != nil { headers["Content-Type"] = "application/json" }
        let connection = try RawHTTPConnection(port: port, method: method, path: path, headers: headers, body: json?.jsonBytes ?? [])
        let head = try await connection.head()
        return (head, SSEReader(connection), connection)
    }

    /// Reads events until the stream ends.
    static func drain(_ reader: SSEReader) async -> [ReceivedSSE] {
        var events: [ReceivedSSE] = []
        while let event = await reader.next() { events.append(event) }
        return events
    }
}
