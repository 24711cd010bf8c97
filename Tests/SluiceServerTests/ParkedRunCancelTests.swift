import Foundation
import SluiceJSON
import SluiceStore
import Testing
@testable import SluiceServer

/// A run cancelled between being parked at its question and the call reading that question:
/// the caller of a 2026-07-28 call is told the truth (the run was cancelled), not that its
/// `requestState` was refused.
@Suite(.timeLimit(.minutes(1))) struct ParkedRunCancelTests {
    @Test func aCallWhoseParkedRunWasCancelledSaysSo() async throws {
        try await ServerHarness.withDurableExecutor { durable in
            let server = MCPServer(library: try ServerHarness.library(), runs: RunManager(executor: durable))
            let session = server.makeSession(user: "alice", unrelated: DiscardingOutbound())
            // A run parked at its question, then cancelled in the store (by another process).
            let id = "run_parked_then_cancelled"
            try await durable.store.createRun(NewRun(
                id: id, plan: PlanIdentity(name: "news_report", path: "plans/news_report.json", contentHash: "0"), inputs: ["task": "x"],
                options: ["origin": "server", "answers_by_retry": true], user: "alice"))
            try await durable.store.releaseWaiting(id: id, question: PendingInput(seq: 0, step: "approve_outline", message: "Go on?", details: .null))
            #expect(try await durable.store.requestCancel(id: id).status == .cancelled)

            // What the call saw here: its execution ended at the question.
            let record = RunRecord(id: id, planName: "news_report", user: "alice", inputs: ["task": "x"])
            record.finish(RunResult(status: .waiting, errorType: "input_required"))
            let meta = ModernMeta(version: "2026-07-28", capabilities: ["elicitation": .object(JSONObject())])
            do {
                _ = try await session.follow(
                    record, after: 0, id: 1, name: "news_report", arguments: ["task": "x"], params: JSONObject(), meta: meta, outbound: DiscardingOutbound())
                Issue.record("a cancelled run must not answer as if it went on")
            } catch let error as JSONRPCError {
                #expect(error.data?["type"] == "cancelled", "\(error.message) \(String(describing: error.data))")
                #expect(!error.message.contains("requestState"))
            }
            // Another user's cancelled run is no business of this session: refused as before.
            let stranger = server.makeSession(user: "bob", unrelated: DiscardingOutbound())
            let bobs = RunRecord(id: id, planName: "news_report", user: "bob", inputs: ["task": "x"])
            bobs.finish(RunResult(status: .waiting, errorType: "input_required"))
            await #expect(throws: JSONRPCError.self) {
                _ = try await stranger.follow(
                    bobs, after: 0, id: 2, name: "news_report", arguments: ["task": "x"], params: JSONObject(), meta: meta, outbound: DiscardingOutbound())
            }
        }
    }
}
