import Foundation
import SluiceEngine
import SluiceJSON
import SluiceRunLog
import SluiceStore

/// A 2026-07-28 retry that reaches a server which does not hold the waiting run (it restarted,
/// or another server on the same store asked): the run is continued from the store, where it
/// stopped at the question, with the retry's answer.
extension MCPSession {
    func continueStoredRun(
        id: JSONValue, name: String, arguments: JSONValue, state: RequestState, text: String, params: JSONObject, meta: ModernMeta,
        outbound: any MCPOutbound
    ) async throws -> JSONValue? {
        guard let durable = server.runs.executor as? DurableRunExecutor else { throw Self.stateUsed }
        // Two retries with the same state at once: one continues the run, the other is refused
        // (the store's claim would refuse it too, but only after a second record was made).
        guard server.waiting.beginResume(runID: state.runID) else { throw Self.stateUsed }
        defer { server.waiting.endResume(runID: state.runID) }
        if let local = server.runs.run(id: state.runID, user: user), local.status == .running { throw Self.stateUsed }
        let store = durable.store
        let stored: StoredRun?
        let question: RunEvent?
        let later: [RunEvent]
        do {
            stored = try await store.run(id: state.runID)
            question = try await store.events(runID: state.runID, after: state.seq - 1, limit: 1).first
            later = try await store.events(runID: state.runID, after: state.seq, limit: 200)
        } catch {
            throw JSONRPCError(code: JSONRPCError.internalError, message: "Internal error: the run could not be read from the store: \(error.message)")
        }
        // The stored run must be this user's, started by a call that answers by retry, stopped
        // at exactly this question, and not continued since (that makes the state single-use:
        // a resumed run has started steps after the question).
        guard let stored, stored.user == user, stored.options[DurableRunExecutor.answersByRetryOption] == true,
            stored.status.isResumable,
            let question, question.type == .inputRequested, question.step == state.step,
            !later.contains(where: { [.stepStarted, .stepCompleted, .runCompleted, .runResumed].contains($0.type) })
        else { throw Self.stateUsed }
        guard let plan = server.library.plan(named: stored.plan.name) else {
            throw JSONRPCError.invalidParams("Invalid params: the plan '\(stored.plan.name)' of run \(stored.id) is no longer served")
        }
        guard let answer = params["inputResponses"]?[state.step]?.objectValue else {
            let asked = WaitingInputs.Question(
                runID: stored.id, step: state.step, message: question.data["message"]?.stringValue ?? "Continue with step '\(state.step)'?",
                details: question.data["details"] ?? .null, nonce: state.nonce, seq: state.seq)
            return inputRequired(asked, requestState: text)
        }
        var services = RunServices(answersByRetry: true)
        services.confirmation = InputRequestChannel(
            waiting: server.waiting, runs: server.runs,
            progress: InputRequestChannel.Progress(floor: state.seq, answered: (state.step, Self.approves(answer))))
        let record: RunRecord
        do {
            record = try server.runs.resume(id: stored.id, plan: plan, inputs: stored.inputs, user: user, services: services)
        } catch {
            throw JSONRPCError.runFailed(type: "unavailable", message: error.description)
        }
        return try await follow(record, after: 0, id: id, name: name, arguments: arguments, params: params, meta: meta, outbound: outbound)
    }
}
