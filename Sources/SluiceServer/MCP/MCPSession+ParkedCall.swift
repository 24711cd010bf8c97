import Foundation
import SluiceEngine
import SluiceJSON
import SluiceRunLog
import SluiceStore
import Synchronization

/// How a 2025 `tools/call` renders its run's events on its stream (live, or read from the store).
struct CallRendering {
    var renderer: MCPEventRenderer
    let progressToken: JSONValue?
    let level: MCPLogLevel
    let stream: StreamOutbound?
    let outbound: any MCPOutbound

    mutating func render(_ event: RunEvent) async {
        let rendered = renderer.renderedNotifications(for: event, minimumLevel: level)
        guard !rendered.isEmpty else { return }
        if let stream {
            stream.send(
                rendered.map(\.message), renderedFrom: RenderedOrigin(runID: event.runID, seq: event.seq, progressToken: progressToken),
                progress: rendered.map(\.progress))
        } else {
            for (notification, _) in rendered { await outbound.send(notification) }
        }
    }
}

/// A plain 2025 `tools/call` whose run stopped at a `confirm` question on a server with a
/// store: the run is parked there as `waiting` (as a task's is) and the question goes out on
/// the call's stream as an `elicitation/create` whose id names run and question
/// (``storedQuestionID(runID:seq:)``). Whichever process receives the answer resumes the run;
/// this call follows it in the store meanwhile, rendering its events as before, asking each
/// further question, and answers once it ends.
extension MCPSession {
    /// The run option naming the session of a plain call whose questions are parked.
    static let callSessionOption = "mcp_call_session"

    /// Follows parked run `runID` in the store from `seq` to its end; nil when the call was
    /// cancelled (its run is cancelled in the store then) or the session closed.
    func followParked(_ runID: String, after seq: Int, key: String, call: inout CallRendering) async throws -> RunResult? {
        guard let durable = durableExecutor else { return nil }
        let store = durable.store
        let wakeups = durable.opened.wakeups
        _ = wakeups?.watchEvents(runID: runID)
        defer { wakeups?.unwatchEvents(runID: runID) }
        var seq = seq
        var asked: String?
        while true {
            let (cancelled, closed) = state.withLock { ($0.cancelledCalls.contains(key), $0.closed) }
            // A server stopping hands a parked run on untouched (it waits in the store); a
            // cancelled call, or its session ended by the client, cancels it.
            if Task.isCancelled || (closed && durable.handBack?.isHandingBack == true) { return nil }
            if cancelled || closed {
                _ = try? await store.requestCancel(id: runID)
                // Withdraw the question still outstanding.
                if let asked { await call.outbound.send(.notification(method: "notifications/cancelled", params: ["requestId": .string(asked), "reason": "the run was cancelled"])) }
                return nil
            }
            let generation = wakeups?.eventGeneration(runID: runID)
            let stored: StoredRun?
            let events: [RunEvent]
            do {
                events = try await store.events(runID: runID, after: seq, limit: nil)
                stored = try await store.run(id: runID)
            } catch {
                return RunResult(status: .failed, errorType: "store_unavailable", errorMessage: error.message)
            }
            for event in events {
                await call.render(event)
                seq = event.seq
            }
            guard let stored else { return RunResult(status: .failed, errorType: "store_unavailable", errorMessage: "run \(runID) is no longer in the store") }
            if stored.lastSeq <= seq {
                if let ended = RunResult(stored: stored) { return ended }
                if stored.status == .waiting, let question = stored.pendingInput {
                    let id = Self.storedQuestionID(runID: runID, seq: question.seq)
                    if asked != id {
                        asked = id
                        await askStored(question, runID: runID, outbound: call.outbound, relatedTask: false)
                    }
                }
            }
            // Parking writes no event: a short wait catches it between wake-ups.
            if let wakeups, let generation {
                await wakeups.waitForEvents(runID: runID, seen: generation, timeout: .seconds(1))
            } else {
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
    }
}
