import Foundation
import HTTPTypes
import Hummingbird
import SluiceJSON

/// `confirm` steps answered from the run page: a run started with `{"inputs": …, "confirm":
/// "ask"}` parks at each question in ``WaitingInputs`` (the waiting room MCP's input requests
/// use) until `POST /v1/runs/{id}/answer {"approve": true|false}` answers it, or nobody does
/// within the server's input wait (`inputWaitSeconds`) and the run is cancelled.
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
        return RunServices(confirmation: WebConfirmation(waiting: waiting, runs: runs))
    }

    func addAnswerRoute(to router: Router<SluiceRequestContext>) {
        router.post("/v1/runs/:id/answer") { request, context in
            let id = try context.parameters.require("id")
            let body = try await HTTPResponses.readJSON(request, limit: self.configuration.maxBodyBytes)
            guard case .bool(let approve)? = body["approve"] else {
                throw ServerError(.badRequest, "the body must be {\"approve\": true} or {\"approve\": false}")
            }
            guard self.runs.run(id: id, user: context.user) != nil else { throw ServerError(.notFound, "no such run") }
            guard let question = self.mcp.waiting.question(runID: id),
                self.mcp.waiting.answer(runID: id, nonce: question.nonce, approve: approve)
            else {
                throw ServerError(.conflict, "the run is not waiting for an answer")
            }
            return HTTPResponses.json(["run_id": .string(id), "step": .string(question.step), "approved": .bool(approve)])
        }
    }
}
