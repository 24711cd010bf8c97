import HTTPTypes
import Hummingbird
import SluiceJSON
import SluiceStore

/// `POST /v1/runs/{id}/resume`: continues a failed, cancelled or interrupted run of the caller
/// from its checkpoints (what `sluice runs resume` does), in this server; its log goes on with
/// `run.resumed`, so `GET /v1/runs/{id}/events` replays the whole run and follows it.
/// `{"confirm": "ask"}` makes its confirm steps wait for `POST /v1/runs/{id}/answer`.
extension SluiceHTTPServer {
    func addResumeRoute(to router: Router<SluiceRequestContext>) {
        router.post("/v1/runs/:id/resume") { request, context in
            let id = try context.parameters.require("id")
            let body = try await HTTPResponses.readJSON(request, limit: self.configuration.maxBodyBytes)
            guard self.durableStore != nil else {
                throw ServerError(.conflict, "this server keeps no run store (started with --no-store?), so it cannot resume runs")
            }
            guard let stored = try await self.storedRun(id: id, user: context.user) else { throw ServerError(.notFound, "no such run") }
            if let live = self.runs.run(id: id, user: context.user), live.status == .running {
                throw ServerError(.conflict, "the run is running")
            }
            guard stored.status.isResumable else {
                throw ServerError(.conflict, "the run \(stored.status.rawValue): only failed, cancelled or interrupted runs can be resumed")
            }
            guard let plan = self.mcp.library.plan(named: stored.plan.name) else {
                throw ServerError(.conflict, "the plan '\(stored.plan.name)' of this run is no longer served")
            }
            var services = RunServices()
            if let mode = body["confirm"] {
                guard mode == "ask" else { throw ServerError(.badRequest, "confirm must be \"ask\"") }
                services = Self.webAsks(waiting: self.mcp.waiting, runs: self.runs)
            }
            guard self.mcp.waiting.beginResume(runID: id) else { throw ServerError(.conflict, "the run is being resumed") }
            defer { self.mcp.waiting.endResume(runID: id) }
            do throws(RunRefusal) {
                _ = try await self.runs.resume(id: id, plan: plan, inputs: stored.inputs, user: context.user, services: services)
            } catch {
                throw ServerError.refused(error, retryAfter: self.runs.limits.retryAfterSeconds)
            }
            return HTTPResponses.json(["run_id": .string(id), "status": "running"], status: .accepted)
        }
    }
}
