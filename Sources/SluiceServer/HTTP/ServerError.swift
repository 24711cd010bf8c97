import Foundation
import HTTPTypes
public import Hummingbird
import NIOCore
public import SluiceJSON

/// Every refusal at the HTTP boundary: thrown by routes and checks, rendered in one place
/// (``BoundaryMiddleware``), so no route formats its own error and none leaks internals.
///
/// It renders as `{"error": message, "details": …}`, or — on `/mcp` — as a JSON-RPC error
/// without id, as the MCP transport allows in HTTP error bodies. A 400, 408 or 413 also closes
/// the connection: what follows such a request on it cannot be trusted to be a new request.
public struct ServerError: Error, Sendable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var message: String
    public var details: JSONValue?
    /// Seconds a refused client should wait (`Retry-After`), for 429 and 503.
    public var retryAfter: Int?
    /// The JSON-RPC code when rendered for `/mcp`; by default derived from the status.
    public var rpcCode: Int?
    /// The whole JSON-RPC error and the id of the request it answers, when the refusal has
    /// them (a 2026-07-28 request is answered with its own id and the revision's codes).
    public var rpc: (id: JSONValue, error: JSONRPCError)?

    public init(_ status: HTTPResponse.Status, _ message: String, details: JSONValue? = nil, retryAfter: Int? = nil, rpcCode: Int? = nil) {
        self.status = status
        self.message = message
        self.details = details
        self.retryAfter = retryAfter
        self.rpcCode = rpcCode
    }

    public var description: String { "\(status.code) \(message)" }

    /// Whether the connection is closed after the answer.
    var closesConnection: Bool { [400, 408, 413, 415, 431].contains(status.code) }

    /// A JSON-RPC error answering request `id`, with an HTTP status.
    static func rpc(_ error: JSONRPCError, id: JSONValue, status: HTTPResponse.Status) -> ServerError {
        var failure = ServerError(status, error.message, details: error.data, rpcCode: error.code)
        failure.rpc = (id, error)
        return failure
    }

    /// The answer; `jsonRPC` for the MCP endpoint.
    func response(jsonRPC: Bool) -> Response {
        var headers: HTTPFields = [:]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        if closesConnection { headers[.connection] = "close" }
        guard jsonRPC else { return HTTPResponses.json(.object(restBody), status: status, headers: headers) }
        let code = rpcCode ?? (status.code >= 500 ? JSONRPCError.internalError : JSONRPCError.invalidRequest)
        let error = rpc?.error ?? JSONRPCError(code: code, message: message, data: details)
        return HTTPResponses.json(JSONRPCMessage.error(id: rpc?.id ?? .null, error: error).jsonValue, status: status, headers: headers)
    }

    private var restBody: JSONObject {
        var object: JSONObject = ["error": .string(message)]
        if let details { object["details"] = details }
        return object
    }

    /// The answer to an error nobody turned into a ``ServerError``: Hummingbird's own (an
    /// unknown route, a missing parameter) keep their status and text; anything else is a
    /// plain 500 that says nothing of the server's insides.
    static func from(_ error: any Error) -> ServerError {
        switch error {
        case let error as ServerError:
            return error
        case let error as HTTPError:
            return ServerError(error.status, error.body ?? error.status.reasonPhrase)
        case is NIOTooManyBytesError:
            return ServerError(.contentTooLarge, "the body is too large")
        default:
            return ServerError(.internalServerError, "internal error")
        }
    }
}

extension ServerError {
    /// A run the server would not start: 503 while shutting down or without its store, else 429; both with `Retry-After`.
    static func refused(_ refusal: RunRefusal, retryAfter: Int) -> ServerError {
        switch refusal {
        case .shuttingDown, .storeUnavailable: ServerError(.serviceUnavailable, refusal.description, retryAfter: retryAfter)
        case .userLimit, .serverFull, .queueFull: ServerError(.tooManyRequests, refusal.description, retryAfter: retryAfter)
        }
    }
}
