import Foundation
import SluiceJSON
import SluiceRunLog
import SluiceStore
import Testing
@testable import SluiceServer

/// The tasks extension on 2026-07-28: a long plan called by a client that takes tasks answers
/// with a task, polled with `tasks/get`, its confirm answered with `tasks/update`.
@Suite(.timeLimit(.minutes(3))) struct MCPModernTaskTests {
    static let tasks: JSONValue = ["extensions": ["io.modelcontextprotocol/tasks": .object(JSONObject())], "elicitation": .object(JSONObject())]

    /// Polls `tasks/get` until `done` holds for the task (the server says how often; the test
    /// only bounds the number of polls).
    static func poll(_ client: MCPTestClient, _ taskID: String, until done: (JSONValue) -> Bool) async throws -> JSONValue {
        var last = JSONValue.null
        for _ in 0..<2000 {
            let task = try #require(try await client.modern("tasks/get", ["taskId": .string(taskID)], capabilities: tasks)["result"])
            if done(task) { return task }
            last = task
            try await Task.sleep(for: .milliseconds(20))
        }
        throw MCPTestClient.Failure(description: "task \(taskID) never got there; last: \(last.serialized(pretty: false).prefix(600))")
    }

    @Test func aLongPlanIsATaskPolledAnsweredAndIsolated() async throws {
        let keys = SluiceHTTPServer.Configuration(port: 0, apiKeys: APIKeys([("alice-key", "alice"), ("bob-key", "bob")]))
        try await ServerHarness.withDurableExecutor { durable in
        try await ServerHarness.withServer(executor: durable, configuration: keys) { port, server in
            let alice = MCPTestClient(HTTPTransport(port: port, headers: ["Authorization": "Bearer alice-key"], modern: true))
            let discover = try await alice.modern("server/discover")
            #expect(discover["result"]?["capabilities"]?["extensions"]?["io.modelcontextprotocol/tasks"] != nil)

            let created = try #require(try await alice.modern("tools/call", ["name": "news_report", "arguments": ["task": "AI agents", "auto_confirm": false]], capabilities: Self.tasks)["result"])
            #expect(created["resultType"] == "task")
            let taskID = try #require(created["taskId"]?.stringValue)
            #expect(created["ttlMs"]?.integerValue != nil && created["pollIntervalMs"]?.integerValue != nil && created["createdAt"]?.stringValue != nil)
            let waiting = try await Self.poll(alice, taskID) { $0["status"] == "input_required" }
            #expect(waiting["resultType"] == "complete")
            #expect(waiting["inputRequests"]?["approve_outline"]?["method"] == "elicitation/create")

            // Another user's task does not exist for them; a client without the extension is told what it lacks.
            let bob = MCPTestClient(HTTPTransport(port: port, headers: ["Authorization": "Bearer bob-key"], modern: true))
            #expect(try await bob.modern("tasks/get", ["taskId": .string(taskID)], capabilities: Self.tasks)["error"]?["code"] == -32602)
            #expect(try await bob.modern("tasks/update", ["taskId": .string(taskID), "inputResponses": ["approve_outline": ["action": "accept"]]], capabilities: Self.tasks)["error"]?["code"] == -32602)
            let bare = try await alice.modern("tasks/get", ["taskId": .string(taskID)])
            #expect(bare["error"]?["code"] == -32021)
            #expect(bare["error"]?["data"]?["requiredCapabilities"]?["extensions"]?["io.modelcontextprotocol/tasks"] != nil)

            let ack = try await alice.modern("tasks/update", [
                "taskId": .string(taskID), "inputResponses": ["approve_outline": ["action": "accept", "content": ["approve": true]], "unknown": [:]],
            ], capabilities: Self.tasks)
            #expect(ack["result"]?["resultType"] == "complete")
            let record = try #require(server.mcp.runs.registry.run(id: taskID))
            #expect(await record.waitForResult().status == .completed)
            let done = try #require(try await alice.modern("tasks/get", ["taskId": .string(taskID)], capabilities: Self.tasks)["result"])
            #expect(done["status"] == "completed")
            #expect(done["result"]?["isError"] == false && done["result"]?["structuredContent"] != nil)
            // Released at its question and resumed with the answer: one gapless log, and no model
            // call made before the question (language, intent, outline) is made again after it.
            let log = try await durable.store.events(runID: taskID, after: 0, limit: nil)
            #expect(log.map(\.seq) == Array(1...log.count))
            let resumedAt = try #require(log.firstIndex { $0.type == .runResumed })
            let paid = { (events: ArraySlice<RunEvent>) in
                Set(events.filter { $0.type == .modelUsage && $0.data["cache"] == nil }.map { "\($0.step ?? "")|\($0.item ?? -1)|\($0.iteration ?? -1)" })
            }
            #expect(!paid(log[..<resumedAt]).isEmpty)
            #expect(paid(log[..<resumedAt]).isDisjoint(with: paid(log[resumedAt...])), "\(paid(log[..<resumedAt])) \(paid(log[resumedAt...]))")

            // A short plan answers inline, tasks or not.
            let inline = try await alice.modern("tools/call", ["name": "ask", "arguments": ["auto_confirm": true]], capabilities: Self.tasks)
            #expect(inline["result"]?["resultType"] == "complete")

            let second = try #require(try await alice.modern("tools/call", ["name": "news_report", "arguments": ["task": "AI agents", "auto_confirm": false]], capabilities: Self.tasks)["result"]?["taskId"]?.stringValue)
            #expect(try await alice.modern("tasks/cancel", ["taskId": .string(second)], capabilities: Self.tasks)["result"]?["resultType"] == "complete")
            // Cancelled while it ran here, or while it waited in the store: cancelled either way.
            let cancelled: JSONValue
            do {
                cancelled = try await Self.poll(alice, second) { ["completed", "failed", "cancelled"].contains($0["status"]?.stringValue ?? "") }
            } catch {
                let log = try await durable.store.events(runID: second, after: 0, limit: nil)
                let stored = try await durable.store.run(id: second)
                Issue.record("\(error); store: \(stored.map { "\($0.status) cancel_requested=\($0.cancelRequested) owner=\($0.owner ?? "-")" } ?? "none"); log: \(log.map { "\($0.seq):\($0.type.rawValue)" })")
                throw error
            }
            #expect(cancelled["status"] == "cancelled")
            #expect(try await durable.store.run(id: second)?.status == .cancelled)
            await alice.close()
            await bob.close()
        }
        }
    }

    @Test func aWaitingTaskIsCancelledFromTheStore() async throws {
        try await ServerHarness.withDurableExecutor { durable in
            try await ServerHarness.withServer(executor: durable) { port, _ in
                let client = MCPTestClient(HTTPTransport(port: port, modern: true))
                let created = try await client.modern("tools/call", ["name": "news_report", "arguments": ["task": "AI agents", "auto_confirm": false]], capabilities: Self.tasks)
                let taskID = try #require(created["result"]?["taskId"]?.stringValue)
                _ = try await Self.poll(client, taskID) { $0["status"] == "input_required" }
                #expect(try await durable.store.run(id: taskID)?.status == .waiting)
                _ = try await client.modern("tasks/cancel", ["taskId": .string(taskID)], capabilities: Self.tasks)
                #expect(try await client.modern("tasks/get", ["taskId": .string(taskID)], capabilities: Self.tasks)["result"]?["status"] == "cancelled")
                let log = try await durable.store.events(runID: taskID, after: 0, limit: nil)
                #expect(log.last?.type == .runCancelled && log.map(\.seq) == Array(1...log.count))
                // Nothing waits any more: an answer now changes nothing.
                let late = try await client.modern("tasks/update", ["taskId": .string(taskID), "inputResponses": ["approve_outline": ["action": "accept"]]], capabilities: Self.tasks)
                #expect(late["result"] != nil)
                #expect(try await durable.store.run(id: taskID)?.status == .cancelled)
                await client.close()
            }
        }
    }

    @Test func aFinishedTaskIsGoneAfterItsTTL() async throws {
        try await ServerHarness.withServer(mcp: MCPServer.Configuration(taskTTLMilliseconds: 0)) { port, server in
            let client = MCPTestClient(HTTPTransport(port: port, modern: true))
            let created = try await client.modern("tools/call", ["name": "news_report", "arguments": ["task": "AI agents"]], capabilities: Self.tasks)
            let taskID = try #require(created["result"]?["taskId"]?.stringValue)
            #expect(created["result"]?["ttlMs"] == 0)
            _ = await server.mcp.runs.registry.run(id: taskID)?.waitForResult()
            #expect(try await client.modern("tasks/get", ["taskId": .string(taskID)], capabilities: Self.tasks)["error"]?["code"] == -32602)
            await client.close()
        }
    }
}
