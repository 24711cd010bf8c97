import HTTPTypes
import Hummingbird
import SluiceJSON
import SluiceStore

/// MCP streamable HTTP at `/mcp` (spec 2025-11-25, basic/transports); 2026-07-28 requests
/// branch off to ``mcpModernPost(_:request:context:)``.
extension SluiceHTTPServer {
    static let sessionHeader = HTTPField.Name("MCP-Session-Id")!
    static let protocolVersionHeader = HTTPField.Name("MCP-Protocol-Version")!
    static let lastEventIDHeader = HTTPField.Name("Last-Event-ID")!

    /// Methods whose answer may take long: answered on an SSE stream that carries their notifications.
    static let streamedMethods: Set<String> = ["tools/call", "tasks/result"]

    func addMCPRoutes(to router: Router<SluiceRequestContext>) {
        router.post("/mcp") { request, context in try await self.mcpPost(request, context: context) }
        router.get("/mcp") { request, context in try await self.mcpGet(request, context: context) }
        router.delete("/mcp") { request, context in try await self.mcpDelete(request, context: context) }
    }

    /// A refusal rendered as a JSON-RPC error without id (``ServerError`` does that on `/mcp`).
    private func rpcError(_ status: HTTPResponse.Status, _ code: Int, _ message: String) -> ServerError {
        ServerError(status, message, rpcCode: code)
    }

    /// The protocol-version check shared by every method (Origin and Host are checked for
    /// every route by ``BoundaryMiddleware``).
    private func precheck(_ request: Request) throws(ServerError) {
        if let version = request.headers[Self.protocolVersionHeader], !MCPServer.allVersions.contains(version) {
            let error = JSONRPCError.unsupportedVersion(version, supported: MCPServer.allVersions)
            throw ServerError(.badRequest, error.message, details: error.data, rpcCode: error.code)
        }
    }

    /// The session named by `MCP-Session-Id`: 400 without the header, 404 when unknown or another user's.
    /// With a durable store, a session of a stopped server is taken up again.
    private func session(for request: Request, context: SluiceRequestContext) async throws(ServerError) -> MCPHTTPSessions.Entry {
        guard let id = request.headers[Self.sessionHeader] else {
            throw (rpcError(.badRequest, JSONRPCError.invalidRequest, "Bad Request: MCP-Session-Id header is required"))
        }
        var found = mcpSessions.entry(id)
        if found == nil {
            do {
                found = try await restoredSession(id: id, user: context.user)
            } catch {
                throw (rpcError(.serviceUnavailable, JSONRPCError.internalError, "Service Unavailable: the session could not be read from the store: \(error.message)"))
            }
        }
        guard let entry = found, entry.user == context.user else {
            throw (rpcError(.notFound, JSONRPCError.invalidRequest, "Session not found"))
        }
        entry.touch()
        return entry
    }

    /// A `tools/call` sent with a `traceparent` HTTP header and none in its `_meta` gets the
    /// header's there, so its run continues the caller's trace as a `_meta.traceparent` would.
    static func carryingTraceparent(_ message: JSONRPCMessage, request: Request) -> JSONRPCMessage {
        guard case .request(let id, "tools/call", .object(var params)?) = message,
            let header = request.headers[values: HTTPField.Name("traceparent")!].first else { return message }
        var meta = params["_meta"]?.objectValue ?? JSONObject()
        guard meta["traceparent"] == nil, params["_meta"] == nil || params["_meta"]?.objectValue != nil else { return message }
        meta["traceparent"] = .string(header)
        params["_meta"] = .object(meta)
        return .request(id: id, method: "tools/call", params: .object(params))
    }

    func mcpPost(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        // The version header is checked by ``mcpEra(of:request:)``, which answers with the request's id.
        let bytes = try await HTTPResponses.readBytes(request, limit: configuration.maxBodyBytes)
        let message: JSONRPCMessage
        switch Result(catching: { () throws(JSONRPCError) in try JSONRPCMessage.parse(bytes) }) {
        case .success(let parsed): message = Self.carryingTraceparent(parsed, request: request)
        case .failure(let error): throw ServerError.rpc(error, id: .null, status: .badRequest)
        }
        switch mcpEra(of: message, request: request) {
        case .legacy: break
        case .modern: return try await mcpModernPost(message, request: request, context: context)
        case .refused(let response): return response
        }

        if case .request(_, "initialize", _) = message {
            let limits = configuration.limits
            let tooMany = ServerError(
                .tooManyRequests, "Too Many Requests: you already hold \(limits.sessionsPerUser) MCP sessions (the per-user limit); end one with DELETE /mcp",
                retryAfter: limits.retryAfterSeconds, rpcCode: JSONRPCError.invalidRequest)
            // With a store, the user's sessions are counted there (across every server sharing
            // it, see ``admitSession(_:)``); without one, in this process.
            guard let entry = mcpSessions.create(user: context.user, server: mcp, limit: sessionStore == nil ? limits.sessionsPerUser : .max) else {
                throw tooMany
            }
            switch await admitSession(entry) {
            case .admitted: break
            case .refused:
                throw tooMany
            case .storeFailed(let message):
                throw rpcError(.serviceUnavailable, JSONRPCError.internalError, "Service Unavailable: the session could not be recorded in the store: \(message)")
            }
            let response = await entry.session.handle(message, outbound: DiscardingOutbound())
            await saveSession(entry)
            return HTTPResponses.json(response?.jsonValue ?? .null, headers: [Self.sessionHeader: entry.id])
        }
        let entry = try await session(for: request, context: context)

        guard case .request(_, let method, _) = message else {
            // Notifications and responses: accepted, nothing to answer.
            _ = await entry.session.handle(message, outbound: StreamOutbound(stream: entry.getStream))
            await saveSession(entry)
            return Response(status: .accepted)
        }
        guard Self.streamedMethods.contains(method), HTTPResponses.accepts(request, "text/event-stream") else {
            // Quick requests (and clients that take only JSON) get one JSON answer; anything the
            // server must say meanwhile goes to the GET stream.
            entry.requestStarted()
            defer { entry.requestEnded() }
            let response = await entry.session.handle(message, outbound: StreamOutbound(stream: entry.getStream))
            await saveSession(entry)
            return HTTPResponses.json(response?.jsonValue ?? .null, headers: [Self.sessionHeader: entry.id])
        }

        // With a durable store, the stream can render what its buffer let go again from the
        // run's stored events, so a tools/call resumes whatever its length.
        let recordsOrigins = method == "tools/call" && durableStore != nil
        let stream = entry.newStream(capacity: configuration.replayBufferSize, keep: configuration.finishedStreamsKept, recordsOrigins: recordsOrigins)
        // The stream's id is handed out: keep that before the client sees it.
        await saveSession(entry)
        let outbound = StreamOutbound(stream: stream, onBind: recordsOrigins ? callBinder(entry: entry, streamID: stream.streamID) : nil)
        // Priming event: an id and empty data, so the client can resume from the very start.
        stream.append(data: "")
        entry.requestStarted()
        // The call runs in the server's job group, not in this connection: a client that drops
        // the connection resumes with GET + Last-Event-ID and loses nothing.
        jobs.enqueue {
            let response = await entry.session.handle(message, outbound: outbound)
            if let response { stream.append(data: response.serialized, event: "message") }
            stream.finish()
            entry.requestEnded()
        }
        guard let events = stream.subscribe(after: 0) else {
            throw rpcError(.internalServerError, JSONRPCError.internalError, "Internal error: stream lost")
        }
        var headers = SSEBody.headers
        headers[Self.sessionHeader] = entry.id
        return Response(status: .ok, headers: headers, body: SSEBody.make(events, heartbeat: configuration.heartbeatInterval) { $0.bytes })
    }

    func mcpGet(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        try precheck(request)
        guard HTTPResponses.accepts(request, "text/event-stream") else {
            throw rpcError(.notAcceptable, JSONRPCError.invalidRequest, "Not Acceptable: GET /mcp answers text/event-stream only")
        }
        let entry = try await session(for: request, context: context)
        let events: AsyncStream<SSEEvent>?
        if let lastEventID = request.headers[Self.lastEventIDHeader] {
            let unknown = rpcError(.badRequest, JSONRPCError.invalidRequest, "Bad Request: unknown Last-Event-ID '\(lastEventID)'")
            guard let streamID = ResumableStream.streamID(ofEventID: lastEventID) else { throw unknown }
            let found: AsyncStream<SSEEvent>??
            do {
                if let stream = entry.stream(streamID), let number = stream.number(ofEventID: lastEventID) {
                    found = try await resume(stream, after: number)
                } else if let (_, position) = RunPosition.parse(eventID: lastEventID) {
                    // A call stream this process does not hold (started before a restart, or
                    // forgotten since): made again from the store when it was kept there.
                    found = try await storedCallStream(entry: entry, streamID: streamID, after: position).map { .some($0) }
                } else {
                    found = nil
                }
            } catch {
                throw rpcError(.serviceUnavailable, JSONRPCError.internalError, "Service Unavailable: the events after that Last-Event-ID could not be read from the store: \(error.message)")
            }
            guard let found else { throw unknown }
            events = found
        } else {
            events = entry.getStream.subscribe(after: entry.getStream.lastYielded)
        }
        guard let events else {
            throw rpcError(.badRequest, JSONRPCError.invalidRequest, "Bad Request: the events after that Last-Event-ID are no longer buffered")
        }
        var headers = SSEBody.headers
        headers[Self.sessionHeader] = entry.id
        return Response(status: .ok, headers: headers, body: SSEBody.make(events, heartbeat: configuration.heartbeatInterval) { $0.bytes })
    }

    func mcpDelete(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        try precheck(request)
        let entry = try await session(for: request, context: context)
        _ = mcpSessions.remove(entry.id)
        await forgetSession(entry.id)
        // Its calls' runs are cancelled in the store too before the answer (see `MCPSession.end`).
        await entry.session.end(reason: "the client ended the session")
        entry.getStream.finish()
        return Response(status: .noContent)
    }
}
