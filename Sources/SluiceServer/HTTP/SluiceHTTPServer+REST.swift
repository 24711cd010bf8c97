import HTTPTypes
import Hummingbird
import SluiceEngine
import SluiceJSON
import SluiceStore

/// REST + SSE: `/v1/plans`, `/v1/runs`, and the seeds' routes.
extension SluiceHTTPServer {
    func addRESTRoutes(to router: Router<SluiceRequestContext>) {
        router.get("/healthz") { _, _ in HTTPResponses.json(["status": "ok"]) }
        router.get("/metrics") { _, _ in
            HTTPResponses.text(self.metrics.render(), contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
        router.get("/v1/plans") { _, _ in
            HTTPResponses.json(["plans": .array(self.mcp.library.plans.map(Self.describe))])
        }
        router.post("/v1/plans/:name/runs") { request, context in
            let name = try context.parameters.require("name")
            guard let plan = self.mcp.library.plan(named: name) else {
                throw ServerError(.notFound, "no plan named '\(name)'")
            }
            let body = try await HTTPResponses.readJSON(request, limit: self.configuration.maxBodyBytes)
            // `{"inputs": {...}}` or the inputs themselves.
            let inputs = body["inputs"] ?? body
            let services = try Self.restServices(body, waiting: self.mcp.waiting, runs: self.runs)
            return try await self.startRun(plan: plan, inputs: inputs, request: request, context: context, seed: SeedEvents(userID: context.user), services: services)
        }
        router.get("/v1/runs/:id") { _, context in
            let id = try context.parameters.require("id")
            guard let record = self.runs.run(id: id, user: context.user) else {
                if let stored = try await self.storedRun(id: id, user: context.user) { return HTTPResponses.json(Self.summary(of: stored)) }
                throw ServerError(.notFound, "no such run")
            }
            return HTTPResponses.json(record.summary)
        }
        router.get("/v1/runs/:id/events") { request, context in
            let id = try context.parameters.require("id")
            let after = request.headers[Self.lastEventIDHeader].flatMap { Int($0) }
                ?? request.uri.queryParameters.get("after", as: Int.self) ?? 0
            guard let record = self.runs.run(id: id, user: context.user) else {
                if let stored = try await self.storedRun(id: id, user: context.user) {
                    return try self.storedEventStream(stored, after: after, seed: SeedEvents(userID: context.user))
                }
                throw ServerError(.notFound, "no such run")
            }
            // A run resumed in this process: its record holds only the continuation; the store
            // has the whole log (the record's events are stored before they are sent).
            if let stored = try await self.storedRun(id: id, user: context.user), stored.resumes > 0 {
                return try self.storedEventStream(stored, after: after, seed: SeedEvents(userID: context.user))
            }
            return self.eventStream(record, after: after, seed: SeedEvents(userID: context.user))
        }
        router.delete("/v1/runs/:id") { _, context in
            let id = try context.parameters.require("id")
            guard let record = self.runs.run(id: id, user: context.user) else {
                // Executing in another process sharing the store: ask it through the store.
                return try await self.cancelStoredRun(id: id, user: context.user)
            }
            guard record.cancel(reason: "cancelled by DELETE /v1/runs/\(record.id)") else {
                throw ServerError(.conflict, "the run has already ended (\(record.status.rawValue))")
            }
            return HTTPResponses.json(["run_id": .string(record.id), "status": "cancelling"], status: .accepted)
        }
        addSeedRoutes(to: router)
    }

    static func describe(_ plan: ServedPlan) -> JSONValue {
        var object: JSONObject = ["name": .string(plan.name)]
        if let title = plan.title { object["title"] = .string(title) }
        if let description = plan.description { object["description"] = .string(description) }
        object["input_schema"] = plan.inputSchema
        if let output = plan.outputSchema { object["output_schema"] = output }
        return .object(object)
    }

    /// Validates the inputs and starts the run: SSE when the client accepts it, else `202 {run_id}`.
    func startRun(
        plan: ServedPlan, inputs: JSONValue, request: Request, context: SluiceRequestContext, seed: SeedEvents, sse forceSSE: Bool = false,
        services: RunServices = RunServices()
    ) async throws(ServerError) -> Response {
        let prepared: JSONValue
        switch InputCheck.prepare(inputs, schema: plan.inputSchema, schemaInputs: plan.schemaInputs) {
        case .success(let value): prepared = value
        case .failure(let problems):
            throw ServerError(.badRequest, problems.description, details: problems.jsonValue)
        }
        let record: RunRecord
        do throws(RunRefusal) {
            var services = services
            // The caller's trace continues into the run (a caller-given `traceparent` wins).
            if services.traceparent == nil { services.traceparent = request.headers[values: HTTPField.Name("traceparent")!].first }
            record = try await runs.start(plan: plan, inputs: prepared, user: context.user, services: services)
        } catch {
            throw ServerError.refused(error, retryAfter: runs.limits.retryAfterSeconds)
        }
        guard forceSSE || HTTPResponses.accepts(request, "text/event-stream") else {
            return HTTPResponses.json(["run_id": .string(record.id)], status: .accepted, headers: [.location: "/v1/runs/\(record.id)"])
        }
        return eventStream(record, after: 0, seed: seed)
    }

    /// The run's events after `after` in seed 000's SSE, then the live ones until the run ends.
    /// A client that disconnects loses nothing: the run goes on and the events stay replayable.
    func eventStream(_ record: RunRecord, after: Int, seed: SeedEvents) -> Response {
        var headers = SSEBody.headers
        headers[HTTPField.Name("X-Run-Id")!] = record.id
        return Response(
            status: .ok, headers: headers,
            body: SSEBody.make(record.events(after: after), heartbeat: configuration.heartbeatInterval) { seed.event(for: $0).bytes }
        )
    }
}
