import Foundation
import SluiceStore

/// Runs parked in the durable store at a question their caller answers (`waiting`): read and
/// resumed the same way by every path that brings an answer — an MCP 2026-07-28 retry,
/// `tasks/update`, and the web page's `POST /v1/runs/{id}/answer` — on any server sharing
/// the store, the one that asked included, or after a restart.
extension MCPServer {
    /// Why a waiting run was not resumed.
    enum WaitingRunRefusal: Error {
        /// Not (or no longer) waiting, or being resumed here by another answer.
        case notWaiting
        case planGone(String)
        case refused(RunRefusal)
    }

    /// The run `runID` when it is `user`'s and waits in the store for an answer; nil otherwise
    /// (and without a durable store).
    func waitingRun(_ runID: String, user: String) async throws(StoreError) -> StoredRun? {
        guard let durable = runs.executor.durable else { return nil }
        // Only a run that answers by retry is ever parked (a web-page resume with "confirm":
        // "ask" may park a run first started without it), so the status says it all.
        guard let stored = try await durable.store.run(id: runID), stored.user == user, stored.status == .waiting, stored.pendingInput != nil
        else { return nil }
        return stored
    }

    /// Resumes waiting run `stored` in this process with `answer` (its question's answer),
    /// from its checkpoints. Returns once the store's claim is made (the record's first event,
    /// `run.resumed`, follows it). Two answers at once: one resumes it, the other is refused
    /// (here by ``WaitingInputs/beginResume(runID:)``, across servers by the claim).
    func resumeWaiting(_ stored: StoredRun, answer: RetryAnswer) async throws(WaitingRunRefusal) -> RunRecord {
        guard let plan = library.plan(named: stored.plan.name) else { throw .planGone(stored.plan.name) }
        guard waiting.beginResume(runID: stored.id) else { throw .notWaiting }
        defer { waiting.endResume(runID: stored.id) }
        // Read again under the claim: an answer that got here first has resumed it already.
        guard (try? await waitingRun(stored.id, user: stored.user)) != nil else { throw .notWaiting }
        let record: RunRecord
        do {
            record = try await runs.resume(
                id: stored.id, plan: plan, inputs: stored.inputs, user: stored.user, services: RunServices(answersByRetry: true, answer: answer))
        } catch {
            throw .refused(error)
        }
        for await _ in record.events() { break }
        return record
    }
}
