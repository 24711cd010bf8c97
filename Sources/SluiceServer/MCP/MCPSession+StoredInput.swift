import Foundation
import SluiceEngine
import SluiceJSON
import SluiceRunLog
import SluiceStore

/// Runs waiting in the store for their caller's answer (MCP 2026-07-28 input requests and
/// tasks). One path for every server: the one that asked, another replica on the same store,
/// or a restarted one — the store says whether the run waits and on what, and the answer
/// resumes it from its checkpoints (its completed model and search calls answered from its
/// call ledger, its log continuing with the next `seq`).
extension MCPSession {
    /// A retry with a verified `requestState`: the same question again without an answer,
    /// else the run continued with it and followed to its end (or its next question).
    func continueStoredRun(
        id: JSONValue, name: String, arguments: JSONValue, state: RequestState, text: String, params: JSONObject, meta: ModernMeta,
        outbound: any MCPOutbound
    ) async throws -> JSONValue? {
        guard let stored = try await waitingRun(state.runID), let question = stored.pendingInput,
            question.seq == state.seq, question.step == state.step
        else { throw Self.stateUsed }
        // The answer is missing: the spec asks for the same question again, not an error.
        guard let answer = params["inputResponses"]?[question.step]?.objectValue else {
            return inputRequired(question, requestState: text)
        }
        let record = try await resumeWaiting(stored, answer: RetryAnswer(step: question.step, approve: Self.approves(answer)))
        return try await follow(record, after: 0, id: id, name: name, arguments: arguments, params: params, meta: meta, outbound: outbound)
    }

    /// The run `runID` when it is this user's and waits for an answer by retry; nil otherwise.
    func waitingRun(_ runID: String) async throws -> StoredRun? {
        do {
            return try await server.waitingRun(runID, user: user)
        } catch {
            throw JSONRPCError(code: JSONRPCError.internalError, message: "Internal error: the run could not be read from the store: \(error.message)")
        }
    }

    /// The question this user's run `runID` waits on in the store, if it does.
    func storedQuestion(_ runID: String) async throws -> PendingInput? {
        try await waitingRun(runID)?.pendingInput
    }

    /// Resumes a waiting run with `answer` in this process (see ``MCPServer/resumeWaiting(_:answer:)``).
    func resumeWaiting(_ stored: StoredRun, answer: RetryAnswer) async throws -> RunRecord {
        do {
            return try await server.resumeWaiting(stored, answer: answer)
        } catch {
            switch error {
            case .notWaiting: throw Self.stateUsed
            case .planGone(let name): throw JSONRPCError.invalidParams("Invalid params: the plan '\(name)' of run \(stored.id) is no longer served")
            case .refused(let refusal): throw JSONRPCError.runFailed(type: "unavailable", message: refusal.description)
            }
        }
    }
}
