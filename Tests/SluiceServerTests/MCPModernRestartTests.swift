import Foundation
import SluiceJSON
import Testing

/// A 2026-07-28 call whose `confirm` step asked its caller, answered after the server was
/// killed (or stopped) and started again on the same `SLUICE_HOME`: the run waited in the store,
/// the retry continues it, and its `requestState` works once.
@Suite(.serialized, .timeLimit(.minutes(5))) struct MCPModernRestartTests {
    static let call: JSONObject = ["name": "news_report", "arguments": ["task": "AI agents", "auto_confirm": false]]

    /// One 2026-07-28 `tools/call` answered as JSON.
    static func callTool(_ port: Int, _ params: JSONObject, id: Int) async throws -> JSONValue {
        let body: JSONValue = [
            "jsonrpc": "2.0", "id": .integer(Int64(id)), "method": "tools/call",
            "params": MCPTestClient.modernParams(params, capabilities: ["elicitation": .object(JSONObject())]),
        ]
        var headers = HTTPTransport.modernHeaders(for: body)
        headers["Accept"] = "application/json"
        let answer = try await HTTP.request(port, "POST", "/mcp", headers: headers, json: body)
        return try #require(answer.json, "status \(answer.status): \(answer.text)")
    }

    /// Asks until the run waits on its confirm step; returns the retry's params.
    static func askedRetry(_ port: Int) async throws -> JSONObject {
        let first = try await callTool(port, call, id: 1)
        #expect(first["result"]?["resultType"] == "input_required", "\(first.serialized(pretty: false).prefix(400))")
        let state = try #require(first["result"]?["requestState"]?.stringValue)
        #expect(first["result"]?["inputRequests"]?["approve_outline"]?["method"] == "elicitation/create")
        var retry = call
        retry["requestState"] = .string(state)
        retry["inputResponses"] = ["approve_outline": ["action": "accept", "content": ["approve": true]]]
        return retry
    }

    @Test func aQuestionOutlivesTheServer() async throws {
        let home = ServerRestartProcessTests.scratchHome()
        defer { ServerRestartProcessTests.remove(home) }

        let first = try await ServeProcess(home: home, delayMilliseconds: 0)
        let killedRetry = try await Self.askedRetry(first.port)
        first.kill()

        // Restarted: it must not have resumed the waiting run on its own (with the fallback).
        let second = try await ServeProcess(home: home, delayMilliseconds: 0)
        var forgotten = killedRetry
        forgotten["inputResponses"] = .object(JSONObject())
        let again = try await Self.callTool(second.port, forgotten, id: 2)
        #expect(again["result"]?["resultType"] == "input_required", "without an answer the restarted server asks again: \(again.serialized(pretty: false).prefix(300))")
        let done = try await Self.callTool(second.port, killedRetry, id: 3)
        #expect(done["result"]?["resultType"] == "complete", "\(done.serialized(pretty: false).prefix(400))\n\(second.stderr)")
        #expect(done["result"]?["isError"] == false)
        #expect(done["result"]?["structuredContent"] != nil)
        #expect(try await Self.callTool(second.port, killedRetry, id: 4)["error"]?["code"] == -32602, "replayed after the restart")

        // A graceful stop cancels the waiting run; the retry continues it all the same.
        let stoppedRetry = try await Self.askedRetry(second.port)
        second.stop()
        let third = try await ServeProcess(home: home, delayMilliseconds: 0)
        defer { third.stop() }
        let resumed = try await Self.callTool(third.port, stoppedRetry, id: 5)
        #expect(resumed["result"]?["resultType"] == "complete" && resumed["result"]?["isError"] == false, "\(resumed.serialized(pretty: false).prefix(400))\n\(third.stderr)")
    }
}
