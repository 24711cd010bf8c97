import Foundation
import HTTPTypes
import Hummingbird
import SluiceJSON
import SluiceStore

/// `confirm` steps answered from the run page: a run started with `{"inputs": …, "confirm":
/// "ask"}` waits at each question until `POST /v1/runs/{id}/answer {"approve": true|false}`
/// answers it. With a durable store the run is parked there as `waiting`, as an MCP input
/// request's run is (``MCPServer/resumeWaiting(_:answer:)``), so the question outlives a
/// restart and any server on the store takes the answer; without one (`--no-store`) it
/// waits in ``WaitingInputs`` in this process, and is cancelled when nobody answers within
/// the server's input wait (`inputWaitSeconds`).
///
/// Opt-in, so a REST client that never answers keeps today's behaviour: the step's `fallback`.
struct WebConfirmation: ConfirmationChannel {
    let waiting: WaitingInputs
    let runs: RunManager

    func confirm(step: String, message: String, details: JSONValue) async throws -> Bool {
        // Every engine run names itself; only a caller outside the engine lands here.
        throw CancellationError()
    }

    func confirm(runID: String, step: String, message: String, details: JSONValue) async throws -> Bool {
        let question = WaitingInputs.Question(
            runID: runID, step: step, message: message, details: details, nonce: UUID().uuidString.lowercased(), seq: 0)
        let runs = self.runs
        let timeout = waiting.timeout
        return try await waiting.ask(question) {
            _ = runs.registry.run(id: runID)?.cancel(reason: "nobody answered '\(message)' within \(timeout)")
        }
    }
}

extension SluiceHTTPServer {
    /// The services of a run started over REST: a confirmation channel when the body asks for one.
    static func restServices(_ body: JSONValue, waiting: WaitingInputs, runs: RunManager) throws(ServerError) -> RunServices {
        guard body["inputs"] != nil, let mode = body["confirm"] else { return RunServices() }
        guard mode == "ask" else {
            throw ServerError(.badRequest, "confirm must be \"ask\" (the run then waits for POST /v1/runs/{id}/answer at each confirm step)")
        }
        return webAsks(waiting: waiting, runs: runs)
    }

    /// The services of a run whose confirm steps the web page answers.
    static func webAsks(waiting: WaitingInputs, runs: RunManager) -> RunServices {
        guard runs.executor.durable != nil else { return RunServices(confirmation: WebConfirmation(waiting: waiting, runs: runs)) }
        return RunServices(answersByRetry: true)
    }

    func addAnswerRoute(to router: Router<SluiceRequestContext>) {
        router.post("/v1/runs/:id/answer") { request, context in
            let id = try context.parameters.require("id")
            let body = try await HTTPResponses.readJSON(request, limit: self.configuration.maxBodyBytes)
            guard case .bool(let approve)? = body["approve"] else {
                throw ServerError(.badRequest, "the body must be {\"approve\": true} or {\"approve\": false}")
            }
            if self.runs.executor.durable != nil { return try await self.answerStored(id: id, user: context.user, approve: approve) }
            guard self.runs.run(id: id, user: context.user) != nil else { throw ServerError(.notFound, "no such run") }
            guard let question = self.mcp.waiting.question(runID: id),
                self.mcp.waiting.answer(runID: id, nonce: question.nonce, approve: approve)
            else {
                throw ServerError(.conflict, "the run is not waiting for an answer")
            }
            return HTTPResponses.json(["run_id": .string(id), "step": .string(question.step), "approved": .bool(approve)])
        }
    }

    /// The answer to a run waiting in the store: it is resumed here with it.
    private func answerStored(id: String, user: String, approve: Bool) async throws -> Response {
        guard let stored = try await self.storedRun(id: id, user: user) else { throw ServerError(.notFound, "no such run") }
        let waiting: StoredRun?
        do throws(StoreError) {
            waiting = try await self.mcp.waitingRun(stored.id, user: user)
        } catch {
            throw ServerError(.serviceUnavailable, "the run could not be read from the store: \(error.message)")
        }
        guard let waiting, let question = waiting.pendingInput else { throw ServerError(.conflict, "the run is not waiting for an answer") }
        do throws(MCPServer.WaitingRunRefusal) {
            _ = try await self.mcp.resumeWaiting(waiting, answer: RetryAnswer(step: question.step, approve: approve))
        } catch {
            switch error {
            case .notWaiting: throw ServerError(.conflict, "the run is not waiting for an answer")
            case .planGone(let name): throw ServerError(.conflict, "the plan '\(name)' of this run is no longer served")
            case .refused(let refusal): throw ServerError.refused(refusal, retryAfter: self.runs.limits.retryAfterSeconds)
            }
        }
        return HTTPResponses.json(["run_id": .string(id), "step": .string(question.step), "approved": .bool(approve)])
    }
}
