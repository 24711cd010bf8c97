import Foundation
import HTTPTypes
import Hummingbird
import SluiceJSON

/// MCP 2026-07-28 on the same `/mcp` endpoint as the session-based revisions: each POST is
/// served on its own (no `MCP-Session-Id`), its version and capabilities read from `_meta`,
/// the `MCP-Protocol-Version`, `Mcp-Method` and `Mcp-Name` headers checked against the body.
extension SluiceHTTPServer {
    static let mcpMethodHeader = HTTPField.Name("Mcp-Method")!
    static let mcpNameHeader = HTTPField.Name("Mcp-Name")!

    /// Methods whose `Mcp-Name` header mirrors `params.name` (or `params.uri`).
    static let namedMethods: Set<String> = ["tools/call", "prompts/get", "resources/read"]

    /// What era a POST belongs to.
    enum MCPEra {
        case legacy
        /// Served per request; the version it names.
        case modern(String)
        /// Refused before anything runs: the answer to send.
        case refused(Response)
    }

    /// Tells a 2026-07-28 POST from a session one: `initialize` and requests naming no modern
    /// version (header or `_meta`) keep the session rules; a version nobody speaks is refused
    /// with `UnsupportedProtocolVersion` either way.
    func mcpEra(of message: JSONRPCMessage, request: Request) -> MCPEra {
        let header = request.headers[Self.protocolVersionHeader]
        let id: JSONValue
        let params: JSONValue?
        switch message {
        case .request(let requestID, _, let requestParams):
            id = requestID
            params = requestParams
        case .notification(_, let notificationParams):
            id = .null
            params = notificationParams
        case .result, .error:
            id = .null
            params = nil
        }
        if let header, !MCPServer.allVersions.contains(header) {
            return .refused(Self.rpcAnswer(id: id, .unsupportedVersion(header, supported: MCPServer.allVersions), status: .badRequest))
        }
        // `initialize` opens a session whatever else the message says.
        if case .request(_, "initialize", _) = message { return .legacy }
        if let version = MCPSession.metaVersion(of: params) {
            guard MCPServer.allVersions.contains(version) else {
                return .refused(Self.rpcAnswer(id: id, .unsupportedVersion(version, supported: MCPServer.allVersions), status: .badRequest))
            }
            guard MCPServer.modernVersions.contains(version) else { return .legacy }
            guard let header else {
                return .refused(Self.rpcAnswer(id: id, .headerMismatch("the MCP-Protocol-Version header is required"), status: .badRequest))
            }
            guard header == version else {
                return .refused(Self.rpcAnswer(
                    id: id, .headerMismatch("MCP-Protocol-Version header value '\(header)' does not match body value '\(version)'"), status: .badRequest))
            }
            return .modern(version)
        }
        if let header, MCPServer.modernVersions.contains(header) {
            // Requests of this revision always say their version in `_meta` too.
            if case .request(_, let method, _) = message, method != "initialize" {
                return .refused(Self.rpcAnswer(id: id, .invalidParams("Invalid params: _meta.\(MCPSession.protocolVersionKey) is required"), status: .badRequest))
            }
            return .modern(header)
        }
        if case .request(_, "server/discover", _) = message {
            return .refused(Self.rpcAnswer(id: id, .invalidParams("Invalid params: _meta.\(MCPSession.protocolVersionKey) is required"), status: .badRequest))
        }
        return .legacy
    }

    /// Serves one 2026-07-28 POST: a JSON answer, or for `tools/call` (when the client takes
    /// SSE) a stream of the call's notifications ending with its result. Closing that stream
    /// cancels the call.
    func mcpModernPost(_ message: JSONRPCMessage, request: Request, context: SluiceRequestContext) async throws -> Response {
        guard case .request(let id, let method, let params) = message else {
            // This revision defines no client notifications over HTTP; they are accepted and dropped.
            if case .notification = message { return Response(status: .accepted) }
            return Self.rpcAnswer(id: .null, JSONRPCError(code: JSONRPCError.invalidRequest, message: "Invalid Request: clients send no responses in 2026-07-28"), status: .badRequest)
        }
        if let mismatch = Self.headerMismatch(method: method, params: params, request: request) {
            return Self.rpcAnswer(id: id, mismatch, status: .badRequest)
        }
        do {
            _ = try MCPSession.modernMeta(params)
        } catch {
            return Self.rpcAnswer(id: id, error, status: .badRequest)
        }
        guard MCPSession.modernMethods.contains(method) else {
            return Self.rpcAnswer(id: id, .methodNotFound(method), status: .notFound)
        }
        // A session object for this request alone: it keeps nothing between requests.
        let session = mcp.makeSession(user: context.user, unrelated: DiscardingOutbound())
        let streams = HTTPResponses.accepts(request, "text/event-stream")
        if method == "subscriptions/listen", !streams {
            return Self.rpcAnswer(
                id: id, JSONRPCError(code: JSONRPCError.invalidRequest, message: "Invalid Request: subscriptions/listen answers with a stream; Accept must include text/event-stream"),
                status: .notAcceptable)
        }
        guard method == "tools/call" || method == "subscriptions/listen", streams else {
            let response = await session.handle(message, outbound: DiscardingOutbound())
            return HTTPResponses.json(response?.jsonValue ?? .null)
        }
        let body = SSEBody.producing(heartbeat: configuration.heartbeatInterval) { events in
            let outbound = SSEOutbound(events: events)
            if let response = await session.handle(message, outbound: outbound) { await outbound.send(response) }
        }
        var headers = SSEBody.headers
        headers[HTTPField.Name("X-Accel-Buffering")!] = "no"
        return Response(status: .ok, headers: headers, body: body)
    }

    /// The `HeaderMismatch` error for a POST whose `Mcp-Method` / `Mcp-Name` headers are missing
    /// or say something else than its body (the routing an intermediary did must be the one served).
    static func headerMismatch(method: String, params: JSONValue?, request: Request) -> JSONRPCError? {
        guard let headerMethod = request.headers[mcpMethodHeader] else { return .headerMismatch("the Mcp-Method header is required") }
        guard headerMethod == method else { return .headerMismatch("Mcp-Method header value '\(headerMethod)' does not match body value '\(method)'") }
        let bodyName: String?
        if MCPSession.taskMethods.contains(method) {
            // The tasks extension routes by task: `Mcp-Name` carries `params.taskId`.
            bodyName = params?["taskId"]?.stringValue
        } else if namedMethods.contains(method) {
            bodyName = params?["name"]?.stringValue ?? params?["uri"]?.stringValue
        } else {
            return nil
        }
        guard let raw = request.headers[mcpNameHeader] else { return .headerMismatch("the Mcp-Name header is required for \(method)") }
        guard let headerName = decodedHeaderValue(raw) else { return .headerMismatch("the Mcp-Name header is not valid base64") }
        guard headerName == bodyName else { return .headerMismatch("Mcp-Name header value '\(raw)' does not match body value '\(bodyName ?? "")'") }
        return nil
    }

    /// A header value with the spec's `=?base64?…?=` sentinel decoded (nil when it does not decode).
    static func decodedHeaderValue(_ value: String) -> String? {
        guard value.hasPrefix("=?base64?"), value.hasSuffix("?="), value.count >= 11 else { return value }
        let encoded = String(value.dropFirst(9).dropLast(2))
        guard let data = Data(base64Encoded: encoded) else { return nil }
        return String(data: data, encoding: .utf8)
    }

    /// A JSON-RPC error carrying the request's id (the client matches it), with an HTTP status.
    /// A refusal answering request `id`, rendered by ``ServerError`` as every refusal is.
    static func rpcAnswer(id: JSONValue, _ error: JSONRPCError, status: HTTPResponse.Status) -> Response {
        ServerError.rpc(error, id: id, status: status).response(jsonRPC: true)
    }
}

/// A 2026-07-28 call's messages as SSE `message` events on its own response stream (no event
/// ids: that revision has no resumption).
struct SSEOutbound: MCPOutbound {
    let events: AsyncStream<SSEEvent>.Continuation

    func send(_ message: JSONRPCMessage) async {
        events.yield(SSEEvent(event: "message", data: message.serialized))
    }
}
