import HTTPTypes
import Hummingbird
import SluiceEngine
import SluiceJSON
import SluiceRunLog

/// The seeds' routes: seed 001's orchestrator and session lookup, seed 000's extraction.
extension SluiceHTTPServer {
    func addSeedRoutes(to router: Router<SluiceRequestContext>) {
        // Seed 001: `{task, task_type, kwargs}` → the run's MCP-shaped messages over SSE.
        router.post("/mcp/streaming/orchestrator") { request, context in
            let body = try await HTTPResponses.readJSON(request, limit: self.configuration.maxBodyBytes)
            guard let arguments = body.objectValue else {
                throw ServerError(.badRequest, "the body must be an object {task, task_type, kwargs}")
            }
            let session = self.mcp.makeSession(user: context.user, unrelated: DiscardingOutbound())
            let (plan, prepared): (ServedPlan, Result<JSONValue, InputProblems>)
            do throws(JSONRPCError) {
                (plan, prepared) = try session.resolveCall(name: MCPServer.orchestratorToolName, arguments: arguments)
            } catch {
                throw ServerError(.badRequest, error.message)
            }
            let inputs: JSONValue
            switch prepared {
            case .success(let value): inputs = value
            case .failure(let problems): throw ServerError(.badRequest, problems.description, details: problems.jsonValue)
            }
            let record: RunRecord
            do throws(RunRefusal) {
                record = try await self.runs.start(plan: plan, inputs: inputs, user: context.user)
            } catch {
                throw ServerError.refused(error, retryAfter: self.runs.limits.retryAfterSeconds)
            }
            return self.orchestratorStream(record)
        }
        router.get("/mcp/streaming/sessions/:session_id") { _, context in
            guard let record = self.runs.run(id: try context.parameters.require("session_id"), user: context.user) else {
                throw ServerError(.notFound, "no such session")
            }
            guard case .object(var summary) = record.summary else { return HTTPResponses.json(record.summary) }
            summary["session_id"] = .string(record.id)
            return HTTPResponses.json(.object(summary))
        }
        // Seed 000: `{document_path, user_id}` → the extraction plan, streamed as SSE.
        router.post("/v1/extract") { request, context in
            let body = try await HTTPResponses.readJSON(request, limit: self.configuration.maxBodyBytes)
            guard let documentPath = body["document_path"]?.stringValue else {
                throw ServerError(.badRequest, "invalid arguments: document_path: is required (a string)")
            }
            guard let plan = self.mcp.library.plan(named: "extraction") else {
                throw ServerError(.notFound, "this server has no 'extraction' plan")
            }
            let userID = body["user_id"]?.stringValue ?? context.user
            var inputs = body["inputs"]?.objectValue ?? JSONObject()
            inputs["document_path"] = .string(documentPath)
            return try await self.startRun(
                plan: plan, inputs: .object(inputs), request: request, context: context,
                seed: SeedEvents(userID: userID, documentPath: documentPath), sse: true
            )
        }
    }

    /// Seed 001 over SSE: each event's data is a JSON-RPC message — `notifications/message`
    /// while the run goes (the first carrying `session_id`), then the result or the -32603 error.
    func orchestratorStream(_ record: RunRecord) -> Response {
        let (events, continuation) = AsyncStream.makeStream(of: SSEEvent.self)
        let source = record.events()
        let runID = record.id
        // The rendering runs in the job group so the body only writes what it is given.
        jobs.enqueue {
            var renderer = MCPEventRenderer(progressToken: nil)
            var number = 0
            func yield(_ message: JSONRPCMessage) {
                number += 1
                continuation.yield(SSEEvent(id: String(number), event: "message", data: message.serialized))
            }
            for await event in source {
                for message in renderer.notifications(for: event, minimumLevel: .info) { yield(message) }
                if event.type.endsRun {
                    let result = await record.waitForResult()
                    let final: JSONRPCMessage = switch MCPSession.toolResult(result) {
                    case .success(let value): .result(id: .string(runID), result: value)
                    case .failure(let error): .error(id: .string(runID), error: error)
                    }
                    yield(final)
                }
            }
            continuation.finish()
        }
        var headers = SSEBody.headers
        headers[HTTPField.Name("X-Session-Id")!] = record.id
        return Response(status: .ok, headers: headers, body: SSEBody.make(events, heartbeat: configuration.heartbeatInterval) { $0.bytes })
    }
}
