import Foundation
import SluiceJSON
import Synchronization
import Testing
@testable import SluiceServer

/// MCP over stdio: a child `sluice serve --stdio` driven by the test client.
@Suite(.timeLimit(.minutes(3))) struct MCPStdioTests {
    @Test func callStreamsSeedMessagesProgressAndTheResult() async throws {
        let transport = try StdioTransport()
        let client = MCPTestClient(transport)
        let initialized = try await client.initialize(capabilities: ["experimental": ["anything": .object(JSONObject())], "roots": ["listChanged": true]])
        #expect(initialized["protocolVersion"] == "2025-11-25")
        #expect(initialized["capabilities"]?["tools"] != nil)
        _ = try await client.request("logging/setLevel", ["level": "info"])
        let response = try await client.request("tools/call", [
            "name": "ask", "arguments": ["topic": "harbours", "auto_confirm": true], "_meta": ["progressToken": "tok-1"],
        ])
        let result = try #require(response["result"])
        #expect(result["isError"] == false)
        #expect(result["structuredContent"]?["title"]?.stringValue != nil)
        let text = try #require(result["content"]?[0]?["text"]?.stringValue)
        #expect(try JSONParser.parse(text) == result["structuredContent"])

        let notifications = await client.notifications
        let messages = notifications.filter { $0["method"] == "notifications/message" }
        let first = try #require(messages.first)
        #expect(first["params"]?["level"] == "info")
        #expect(first["params"]?["extra"] == .null)
        #expect(first["params"]?["data"]?["msg"]?["details"]?["session_id"]?.stringValue?.hasPrefix("run_") == true)
        #expect(messages.contains { $0["params"]?["data"]?["msg"]?["status"] == "writing" })
        let usage = try #require(messages.first { $0["params"]?["data"]?["msg"]?["type"] == "model_usage" })
        #expect(usage["params"]?["level"] == "info")
        let usageData = try #require(usage["params"]?["data"]?["msg"]?["data"]?.objectValue)
        #expect(Set(usageData.keys) == ["model_provider", "model_name", "input_tokens", "output_tokens"])
        // Deltas are debug messages: filtered out at level info.
        #expect(!messages.contains { $0["params"]?["level"] == "debug" })

        let progress = notifications.filter { $0["method"] == "notifications/progress" }.compactMap { $0["params"]?["progress"]?.doubleValue }
        #expect(!progress.isEmpty)
        #expect(zip(progress, progress.dropFirst()).allSatisfy { $0 < $1 }, "progress must increase strictly: \(progress)")
        #expect(notifications.allSatisfy { $0["method"] != "notifications/progress" || $0["params"]?["progressToken"] == "tok-1" })

        // logging/setLevel decides what is sent: debug adds the streamed text, error hides status.
        _ = try await client.request("logging/setLevel", ["level": "debug"])
        await client.clearNotifications()
        _ = try await client.request("tools/call", ["name": "ask", "arguments": ["auto_confirm": true]])
        let debug = await client.notifications.filter { $0["params"]?["level"] == "debug" }
        #expect(debug.contains { $0["params"]?["data"]?["msg"]?["status"] == "streaming" })
        _ = try await client.request("logging/setLevel", ["level": "error"])
        await client.clearNotifications()
        _ = try await client.request("tools/call", ["name": "ask", "arguments": ["auto_confirm": true]])
        #expect(await client.notifications.filter { $0["method"] == "notifications/message" }.isEmpty)
        let badLevel = try await client.request("logging/setLevel", ["level": "loud"])
        #expect(badLevel["error"]?["code"] == -32602)

        await client.close()
        #expect(transport.strayLines.withLock { $0 } == [])
    }

    @Test func aFiveMegabyteResultArrivesIntact() async throws {
        let transport = try StdioTransport()
        let client = MCPTestClient(transport)
        try await client.initialize()
        // Every byte value that JSON must escape, plus multi-byte text, repeated to 5 MB.
        let unit = "line \"one\"\nline\ttwo \\ 海 é \u{1}\u{1F}\r\n"
        let text = String(repeating: unit, count: 5 * 1024 * 1024 / unit.utf8.count + 1)
        let response = try await client.request("tools/call", ["name": "echo", "arguments": ["text": .string(text)]])
        #expect(response["result"]?["structuredContent"]?["text"]?.stringValue == text)
        let block = try #require(response["result"]?["content"]?[0]?["text"]?.stringValue)
        #expect(try JSONParser.parse(block)["text"]?.stringValue == text)
        await client.close()
        #expect(transport.strayLines.withLock { $0 } == [])
    }

    @Test func errorsFollowTheSpecAndSeed() async throws {
        let transport = try StdioTransport()
        let client = MCPTestClient(transport)
        try await client.initialize()

        let invalid = try await client.request("tools/call", ["name": "echo", "arguments": ["times": 0, "extra": true]])
        #expect(invalid["result"]?["isError"] == true)
        let fields = Set(invalid["result"]?["structuredContent"]?["errors"]?.arrayValue?.compactMap { $0["field"]?.stringValue } ?? [])
        #expect(fields == ["text", "times", "extra"])
        let message = invalid["result"]?["content"]?[0]?["text"]?.stringValue ?? ""
        #expect(message.contains("text") && message.contains("times") && message.contains("extra"))

        let unknown = try await client.request("tools/call", ["name": "no_such_tool", "arguments": .object(JSONObject())])
        #expect(unknown["error"]?["code"] == -32602)

        let failed = try await client.request("tools/call", ["name": "broken_run", "arguments": .object(JSONObject())])
        #expect(failed["error"]?["code"] == -32603)
        #expect(failed["error"]?["message"] == "Internal error")
        #expect(failed["error"]?["data"]?["type"] == "confirmation_refused")
        #expect(failed["error"]?["data"]?["message"]?.stringValue?.isEmpty == false)

        let method = try await client.request("no/such/method")
        #expect(method["error"]?["code"] == -32601)

        try transport.sendRaw(#"[{"jsonrpc":"2.0","id":99,"method":"ping"}]"#)
        try transport.sendRaw("{not json")
        let rejected = try await client.waitFor { $0["error"]?["code"] == -32600 }
        #expect(rejected["id"] == .null)
        let parseError = try await client.waitFor { $0["error"]?["code"] == -32700 }
        #expect(parseError["id"] == .null)
        let pong = try await client.request("ping")
        #expect(pong["result"] == .object(JSONObject()))
        await client.close()
    }

    @Test func elicitationAnswersConfirmSteps() async throws {
        let transport = try StdioTransport()
        let client = MCPTestClient(transport) { method, _ in
            method == "elicitation/create" ? ["action": "accept", "content": ["approve": true]] : nil
        }
        try await client.initialize(capabilities: ["elicitation": .object(JSONObject())])
        let response = try await client.request("tools/call", ["name": "ask", "arguments": ["topic": "locks"]])
        #expect(response["result"]?["isError"] == false)
        let asked = try #require(await client.serverRequests.first)
        #expect(asked["method"] == "elicitation/create")
        #expect(asked["params"]?["mode"] == "form")
        #expect(asked["params"]?["message"]?.stringValue?.contains("locks") == true)
        let schema = try #require(asked["params"]?["requestedSchema"])
        #expect(schema["type"] == "object")
        // Flat: only primitive properties.
        #expect(schema["properties"]?.objectValue?.values.allSatisfy { ["string", "number", "integer", "boolean"].contains($0["type"]?.stringValue ?? "") } == true)

        await client.setAnswer { method, _ in method == "elicitation/create" ? ["action": "decline"] : nil }
        let declined = try await client.request("tools/call", ["name": "ask", "arguments": ["topic": "locks"]])
        #expect(declined["error"]?["data"]?["type"] == "confirmation_refused")
        await client.close()
    }

    @Test func cancelledNotificationStopsTheRun() async throws {
        let transport = try StdioTransport()
        let client = MCPTestClient(transport)   // never answers: the run waits on the elicitation
        try await client.initialize(capabilities: ["elicitation": .object(JSONObject())])
        let call = try await client.start("tools/call", ["name": "ask", "arguments": ["topic": "weirs"]])
        let asked = try await client.waitFor { $0["method"] == "elicitation/create" }
        try await client.notify("notifications/cancelled", ["requestId": .integer(Int64(call)), "reason": "user pressed stop"])
        // The server withdraws its own pending request, and sends no response to the cancelled call.
        let withdrawn = try await client.waitFor { $0["method"] == "notifications/cancelled" }
        #expect(withdrawn["params"]?["requestId"] == asked["id"])
        let pong = try await client.request("ping")
        #expect(pong["result"] != nil)
        await client.close()
    }

    @Test func tasksRunInTheBackground() async throws {
        let transport = try StdioTransport()
        let client = MCPTestClient(transport)
        let initialized = try await client.initialize(capabilities: ["elicitation": .object(JSONObject())])
        #expect(initialized["capabilities"]?["tasks"]?["requests"]?["tools"]?["call"] != nil)

        // A task that completes.
        let created = try await client.request("tools/call", ["name": "echo", "arguments": ["text": "hi"], "task": ["ttl": 60000]])
        let task = try #require(created["result"]?["task"])
        let taskID = try #require(task["taskId"]?.stringValue)
        #expect(task["status"] == "working" || task["status"] == "completed")
        #expect(task["createdAt"]?.stringValue != nil && task["ttl"] == 60000)
        let result = try await client.request("tasks/result", ["taskId": .string(taskID)])
        #expect(result["result"]?["structuredContent"]?["text"] == "hi")
        #expect(result["result"]?["_meta"]?["io.modelcontextprotocol/related-task"]?["taskId"]?.stringValue == taskID)
        let status = try await client.request("tasks/get", ["taskId": .string(taskID)])
        #expect(status["result"]?["status"] == "completed")

        // A task waiting for input, then cancelled.
        let waiting = try await client.request("tools/call", ["name": "ask", "arguments": .object(JSONObject()), "task": .object(JSONObject())])
        let waitingID = try #require(waiting["result"]?["task"]?["taskId"]?.stringValue)
        let elicitation = try await client.waitFor { $0["method"] == "elicitation/create" }
        #expect(elicitation["params"]?["_meta"]?["io.modelcontextprotocol/related-task"]?["taskId"]?.stringValue == waitingID)
        let inputRequired = try await client.request("tasks/get", ["taskId": .string(waitingID)])
        #expect(inputRequired["result"]?["status"] == "input_required")
        let list = try await client.request("tasks/list")
        #expect(Set(list["result"]?["tasks"]?.arrayValue?.compactMap { $0["taskId"]?.stringValue } ?? []) == [taskID, waitingID])
        let cancelled = try await client.request("tasks/cancel", ["taskId": .string(waitingID)])
        #expect(cancelled["result"]?["status"] == "cancelled")
        let again = try await client.request("tasks/cancel", ["taskId": .string(waitingID)])
        #expect(again["error"]?["code"] == -32602)
        let cancelledResult = try await client.request("tasks/result", ["taskId": .string(waitingID)])
        #expect(cancelledResult["error"]?["code"] == -32603)
        let missing = try await client.request("tasks/get", ["taskId": "nope"])
        #expect(missing["error"]?["code"] == -32602)
        await client.close()
    }

    @Test func samplingRunsModelStepsOnTheClient() async throws {
        let transport = try StdioTransport(environment: ["SLUICE_MODEL": "sampling"])
        let client = MCPTestClient(transport) { method, params in
            guard method == "sampling/createMessage" else { return nil }
            let prompt = params["messages"]?[0]?["content"]?["text"]?.stringValue ?? ""
            // Structured calls carry their schema in the prompt; answer once wrongly to exercise repair.
            let text: String
            if prompt.contains("JSON Schema") {
                text = prompt.contains("It is invalid") ? #"{"title": "Sampled title"}"# : "not json"
            } else {
                text = "A sampled line."
            }
            return ["role": "assistant", "content": ["type": "text", "text": .string(text)], "model": "client-model", "stopReason": "endTurn"]
        }
        try await client.initialize(capabilities: ["sampling": .object(JSONObject())])
        let response = try await client.request("tools/call", ["name": "ask", "arguments": ["auto_confirm": true]])
        #expect(response["result"]?["structuredContent"]?["line"] == "A sampled line.")
        #expect(response["result"]?["structuredContent"]?["title"] == "Sampled title")
        let samples = await client.serverRequests.filter { $0["method"] == "sampling/createMessage" }
        #expect(samples.count == 3, "one text call, one structured call and one repair")
        #expect(samples.allSatisfy { ($0["params"]?["maxTokens"]?.integerValue ?? 0) > 0 })
        await client.close()
    }
}
