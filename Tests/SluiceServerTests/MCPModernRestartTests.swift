import Foundation
import SluiceJSON
import SluiceTesting
import Testing

/// A 2026-07-28 call whose `confirm` step asked its caller, answered after the server was
/// killed (or stopped) and started again on the same `SLUICE_HOME`: the run waited in the store,
/// the retry continues it, and its `requestState` works once.
@Suite(.serialized, .timeLimit(.minutes(5))) struct MCPModernRestartTests {
    static let call: JSONObject = ["name": "news_report", "arguments": ["task": "AI agents", "auto_confirm": false]]

    static let elicitation: JSONValue = ["elicitation": .object(JSONObject())]
    static let tasks: JSONValue = ["elicitation": .object(JSONObject()), "extensions": ["io.modelcontextprotocol/tasks": .object(JSONObject())]]

    /// One 2026-07-28 `tools/call` answered as JSON.
    static func callTool(_ port: Int, _ params: JSONObject, id: Int) async throws -> JSONValue {
        try await request(port, "tools/call", params, id: id, capabilities: elicitation)
    }

    /// One 2026-07-28 request answered as JSON.
    static func request(_ port: Int, _ method: String, _ params: JSONObject, id: Int, capabilities: JSONValue) async throws -> JSONValue {
        let body: JSONValue = [
            "jsonrpc": "2.0", "id": .integer(Int64(id)), "method": .string(method),
            "params": MCPTestClient.modernParams(params, capabilities: capabilities),
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

    /// `sluice ARGUMENTS` on `home`'s store: exit status, stdout, stderr.
    static func sluice(_ arguments: [String], home: String) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = try TestPaths.executable
        process.arguments = arguments
        process.environment = BuiltExecutable.testEnvironment(["SLUICE_HOME": home]).environment
        let (out, err) = (Pipe(), Pipe())
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, stdout, stderr)
    }

    /// While the server that asked lives, the run waits in the store (not `running`): `sluice
    /// runs` lists it as `waiting` with its question, `runs resume` says it needs the caller's
    /// answer and leaves it be, and the retry still continues it.
    @Test func aWaitingRunIsInTheStoreAndRunsResumeSaysItNeedsTheAnswer() async throws {
        let home = ServerRestartProcessTests.scratchHome()
        defer { ServerRestartProcessTests.remove(home) }
        let server = try await ServeProcess(home: home, delayMilliseconds: 0)
        defer { server.stop() }
        let retry = try await Self.askedRetry(server.port)

        let listed = try Self.sluice(["runs", "list", "--json", "--status", "waiting"], home: home)
        #expect(listed.status == 0, "\(listed.stderr)")
        let runID = try #require(listed.stdout.firstMatch(of: /"run_id":"(run_[0-9a-f]+)"/)?.1).description
        #expect(listed.stdout.contains(#""status":"waiting""#))
        #expect(listed.stdout.contains(#""waiting_for":{"step":"approve_outline","message":"Write"#), "\(listed.stdout)")
        #expect(try Self.sluice(["runs", "list", "--json", "--status", "running"], home: home).stdout.contains(runID) == false)

        let resume = try Self.sluice(["runs", "resume", runID], home: home)
        #expect(resume.status == 2)
        #expect(resume.stderr.contains("is waiting for its caller's answer to step 'approve_outline'"), "\(resume.stderr)")
        #expect(resume.stderr.contains("sluice runs cancel \(runID)"))

        let done = try await Self.callTool(server.port, retry, id: 2)
        #expect(done["result"]?["resultType"] == "complete" && done["result"]?["isError"] == false, "\(done.serialized(pretty: false).prefix(400))")
        let shown = try Self.sluice(["runs", "show", runID], home: home)
        #expect(shown.stdout.contains(#""status": "completed""#) && shown.stdout.contains(#""resumes": 1"#), "\(shown.stdout)")
    }

    /// Polls `tasks/get` on `port` until `done` holds (bounded polls, no timing asserted).
    static func poll(_ port: Int, _ taskID: String, until done: (JSONValue) -> Bool) async throws -> JSONValue {
        for attempt in 0..<3000 {
            let task = try await request(port, "tasks/get", ["taskId": .string(taskID)], id: 100 + attempt, capabilities: tasks)
            if let result = task["result"], done(result) { return result }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw MCPTestClient.Failure(description: "task \(taskID) never got there")
    }

    @Test func aTaskOutlivesTheServer() async throws {
        let home = ServerRestartProcessTests.scratchHome()
        defer { ServerRestartProcessTests.remove(home) }
        let first = try await ServeProcess(home: home, delayMilliseconds: 0)
        let quick = try await Self.request(first.port, "tools/call", ["name": "news_report", "arguments": ["task": "AI agents"]], id: 1, capabilities: Self.tasks)
        #expect(quick["result"]?["resultType"] == "task")
        let finishedID = try #require(quick["result"]?["taskId"]?.stringValue)
        _ = try await Self.poll(first.port, finishedID) { $0["status"] == "completed" }
        let asking = try await Self.request(first.port, "tools/call", Self.call, id: 2, capabilities: Self.tasks)
        let waitingID = try #require(asking["result"]?["taskId"]?.stringValue)
        _ = try await Self.poll(first.port, waitingID) { $0["status"] == "input_required" }
        first.kill()

        let second = try await ServeProcess(home: home, delayMilliseconds: 0)
        defer { second.stop() }
        let finished = try await Self.request(second.port, "tasks/get", ["taskId": .string(finishedID)], id: 3, capabilities: Self.tasks)
        #expect(finished["result"]?["status"] == "completed", "\(finished.serialized(pretty: false).prefix(300))")
        #expect(finished["result"]?["result"]?["structuredContent"] != nil)
        let waiting = try await Self.request(second.port, "tasks/get", ["taskId": .string(waitingID)], id: 4, capabilities: Self.tasks)
        #expect(waiting["result"]?["status"] == "input_required", "\(waiting.serialized(pretty: false).prefix(300))")
        #expect(waiting["result"]?["inputRequests"]?["approve_outline"] != nil)
        let ack = try await Self.request(
            second.port, "tasks/update", ["taskId": .string(waitingID), "inputResponses": ["approve_outline": ["action": "accept", "content": ["approve": true]]]],
            id: 5, capabilities: Self.tasks)
        #expect(ack["result"] != nil)
        let done = try await Self.poll(second.port, waitingID) { ["completed", "failed", "cancelled"].contains($0["status"]?.stringValue ?? "") }
        #expect(done["status"] == "completed", "\(done.serialized(pretty: false).prefix(300))\n\(second.stderr)")
    }
}
