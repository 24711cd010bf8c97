import Foundation
import SluiceJSON

/// What a 2026-07-28 request says about itself in `_meta`: every request carries its version
/// and the client's capabilities, since there is no handshake to remember them from.
struct ModernMeta: Sendable {
    var version: String
    var capabilities: JSONObject
    /// Log messages are sent only when the request names a level (`io.modelcontextprotocol/logLevel`).
    var logLevel: MCPLogLevel?
    /// The caller's W3C trace context (`_meta.traceparent`), continued by the run's trace.
    var traceparent: String?
}

extension MCPSession {
    static let protocolVersionKey = "io.modelcontextprotocol/protocolVersion"
    static let clientCapabilitiesKey = "io.modelcontextprotocol/clientCapabilities"
    static let logLevelKey = "io.modelcontextprotocol/logLevel"
    static let serverInfoKey = "io.modelcontextprotocol/serverInfo"

    /// The methods a 2026-07-28 request may name (`ping`, `logging/setLevel` and the handshake
    /// are gone from that revision).
    static let modernMethods: Set<String> = Set(["server/discover", "tools/list", "tools/call", "subscriptions/listen"]).union(taskMethods)

    /// The version a message names in `params._meta`, which makes it a per-request (modern) one.
    static func metaVersion(of params: JSONValue?) -> String? {
        params?["_meta"]?[protocolVersionKey]?.stringValue
    }

    /// Reads and checks a 2026-07-28 request's `_meta`.
    ///
    /// - Throws: `-32602` when a required field is missing or malformed, `-32022`
    ///   (`UnsupportedProtocolVersion`, with the versions spoken) for a version not served per request.
    static func modernMeta(_ params: JSONValue?) throws(JSONRPCError) -> ModernMeta {
        guard let meta = params?["_meta"]?.objectValue, let version = meta[protocolVersionKey]?.stringValue else {
            throw .invalidParams("Invalid params: _meta.\(protocolVersionKey) is required")
        }
        guard MCPServer.modernVersions.contains(version) else {
            throw .unsupportedVersion(version, supported: MCPServer.allVersions)
        }
        guard let capabilities = meta[clientCapabilitiesKey]?.objectValue else {
            throw .invalidParams("Invalid params: _meta.\(clientCapabilitiesKey) is required (an object)")
        }
        var level: MCPLogLevel?
        if let value = meta[logLevelKey] {
            guard let name = value.stringValue, let parsed = MCPLogLevel(rawValue: name) else {
                throw .invalidParams("Invalid params: _meta.\(logLevelKey) must be one of \(MCPLogLevel.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            level = parsed
        }
        return ModernMeta(version: version, capabilities: capabilities, logLevel: level, traceparent: meta["traceparent"]?.stringValue)
    }

    /// Whether a request is served per request (2026-07-28) rather than by this session's
    /// handshake: it names a version in `_meta` (or is `server/discover`, which only exists there).
    static func isModern(method: String, params: JSONValue?) -> Bool {
        guard method != "initialize" else { return false }
        if method == "server/discover" { return true }
        guard let version = metaVersion(of: params) else { return false }
        // A handshake-era version named in `_meta` keeps the session's rules.
        return !MCPServer.supportedVersions.contains(version)
    }

    /// Answers one 2026-07-28 request: no session state is read or kept, except the calls in
    /// flight (so `notifications/cancelled` reaches them on stdio).
    func respondModern(id: JSONValue, method: String, params: JSONValue?, outbound: any MCPOutbound) async -> JSONRPCMessage? {
        do {
            let meta = try Self.modernMeta(params)
            let object = params?.objectValue ?? JSONObject()
            let result: JSONValue?
            switch method {
            case "server/discover": result = discoverResult()
            case "tools/list": result = modernToolsList()
            case "tools/call": result = try await modernCallTool(id: id, params: object, meta: meta, outbound: outbound)
            case "subscriptions/listen": result = try await listen(id: id, params: object, outbound: outbound)
            case _ where Self.taskMethods.contains(method): result = try await respondTaskMethod(method, params: object, meta: meta)
            default: throw JSONRPCError.methodNotFound(method)
            }
            return result.map { .result(id: id, result: modernResult($0)) }
        } catch let error as JSONRPCError {
            return .error(id: id, error: error)
        } catch {
            return .error(id: id, error: JSONRPCError(code: JSONRPCError.internalError, message: "Internal error: \(error)"))
        }
    }

    /// Adds what every 2026-07-28 result carries: `resultType` and the server's identity.
    func modernResult(_ value: JSONValue) -> JSONValue {
        guard var object = value.objectValue else { return value }
        if object["resultType"] == nil { object["resultType"] = "complete" }
        var meta = object["_meta"]?.objectValue ?? JSONObject()
        meta[Self.serverInfoKey] = serverInfo
        object["_meta"] = .object(meta)
        return .object(object)
    }

    var serverInfo: JSONValue {
        ["name": .string(server.configuration.name), "title": "Sluice", "version": .string(server.configuration.version)]
    }

    /// `server/discover`: versions, capabilities and instructions, cacheable by anyone.
    func discoverResult() -> JSONValue {
        [
            "supportedVersions": .array(MCPServer.allVersions.map { .string($0) }),
            "capabilities": [
                "tools": ["listChanged": false],
                // Deprecated in 2026-07-28, still honoured when a request names a level.
                "logging": .object(JSONObject()),
                "extensions": .object([Self.tasksExtension: .object(JSONObject())]),
            ],
            "instructions": .string("Each tool runs one Sluice plan (a report pipeline); set _meta.progressToken for progress and _meta.\(Self.logLevelKey) for its status messages. A plan that asks for approval answers with an input request."),
            "ttlMs": .integer(Int64(server.configuration.listTTLMilliseconds)),
            "cacheScope": "public",
        ]
    }

    /// `tools/list` for 2026-07-28: sorted by name (clients and prompt caches see a stable
    /// list), schemas in JSON Schema 2020-12, cacheable by anyone (the same for every user).
    func modernToolsList() -> JSONValue {
        let tools = (toolsList()["tools"]?.arrayValue ?? []).map { tool -> JSONValue in
            guard var object = tool.objectValue else { return tool }
            // Tasks are an extension in 2026-07-28; `execution` is not part of its Tool.
            object["execution"] = nil
            if let schema = object["inputSchema"] { object["inputSchema"] = SchemaDialect.draft2020(schema) }
            if let schema = object["outputSchema"] { object["outputSchema"] = SchemaDialect.draft2020(schema) }
            return .object(object)
        }.sorted { ($0["name"]?.stringValue ?? "") < ($1["name"]?.stringValue ?? "") }
        return [
            "tools": .array(tools),
            "ttlMs": .integer(Int64(server.configuration.listTTLMilliseconds)),
            "cacheScope": "public",
        ]
    }

    /// `subscriptions/listen`: acknowledged with the notifications Sluice honours — none, its
    /// tool list is fixed while it runs and it has no prompts or resources (see
    /// ``MCPSubscriptions``) — then held open until the client cancels it (no answer) or the
    /// server shuts down (a completion result naming the subscription).
    ///
    /// - Throws: `-32602` for a `notifications` filter that is not an object; `-32000` when the
    ///   user holds ``MCPServer/listensPerUser`` streams already.
    func listen(id: JSONValue, params: JSONObject, outbound: any MCPOutbound) async throws(JSONRPCError) -> JSONValue? {
        if let filter = params["notifications"], filter.objectValue == nil {
            throw .invalidParams("Invalid params: notifications must be an object (toolsListChanged, promptsListChanged, resourcesListChanged, resourceSubscriptions)")
        }
        guard let number = server.subscriptions.open(session: sessionID, request: id, user: user) else {
            throw JSONRPCError(code: -32000, message: "Too many subscriptions: at most \(MCPServer.listensPerUser) subscriptions/listen streams per user are open at once")
        }
        let subscription: JSONValue = [MCPSubscriptions.subscriptionIDKey: id]
        await outbound.send(.notification(method: "notifications/subscriptions/acknowledged", params: [
            "_meta": subscription,
            "notifications": .object(JSONObject()),
        ]))
        switch await server.subscriptions.wait(number) {
        case .client: return nil
        case .server: return ["_meta": subscription]
        }
    }
}
