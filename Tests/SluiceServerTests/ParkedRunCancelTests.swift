import Foundation
import SluiceJSON
import SluiceRunLog
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

    /// A run parked at its question as its call's cancel arrived: the call's execution here has
    /// ended (a local cancel finds nothing to stop), its response is not sent — the cancel
    /// reaches the run in the store, for `notifications/cancelled` (a 2026-07-28 call over
    /// stdio) and for the end of the session the call belongs to (`DELETE /mcp`, stdin closed;
    /// the store's cancel made before `end` returns). A task already waiting at its question
    /// when its session ends stays (the session's end cancels only what still runs).
    @Test(arguments: [CancelPath.notification, .sessionEnd])
    func aCancelThatArrivesAfterTheParkReachesTheStore(path: CancelPath) async throws {
        try await ServerHarness.withDurableExecutor { durable in
            let server = MCPServer(library: try ServerHarness.library(), runs: RunManager(executor: durable))
            let session = server.makeSession(user: "alice", unrelated: DiscardingOutbound())
            let id = "run_parked_as_cancelled_\(path)"
            try await Self.park(id, in: durable.store)
            // The call in flight: its execution here ended at the question, its answer not yet sent.
            let record = RunRecord(id: id, planName: "news_report", user: "alice", inputs: ["task": "x"])
            record.finish(RunResult(status: .waiting, errorType: "input_required"))
            _ = session.trackCall(id: 7, record: record)

            switch path {
            case .notification:
                _ = await session.handle(.notification(method: "notifications/cancelled", params: ["requestId": 7, "reason": "no longer needed"]), outbound: DiscardingOutbound())
                // Asked without holding up the messages after it: waited for here.
                for _ in 0..<200 where try await durable.store.run(id: id)?.status == .waiting { try await Task.sleep(for: .milliseconds(50)) }
            case .sessionEnd:
                await session.end(reason: "the client ended the session")
            }
            let ended = try #require(try await durable.store.run(id: id))
            #expect(ended.status == .cancelled)
            #expect(try await durable.store.events(runID: id, after: 0, limit: nil).last?.type == .runCancelled)
        }
    }

    enum CancelPath: String, CustomStringConvertible, CaseIterable {
        case notification, sessionEnd
        var description: String { rawValue }
    }

    /// A run of `news_report` parked at its question, as a 2026-07-28 call's is.
    static func park(_ id: String, in store: any RunStore) async throws {
        try await store.createRun(NewRun(
            id: id, plan: PlanIdentity(name: "news_report", path: "plans/news_report.json", contentHash: "0"), inputs: ["task": "x"],
            options: ["origin": "server", "answers_by_retry": true], user: "alice"))
        try await store.releaseWaiting(id: id, question: PendingInput(seq: 0, step: "approve_outline", message: "Go on?", details: .null))
    }
}
