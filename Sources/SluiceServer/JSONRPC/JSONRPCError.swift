public import SluiceJSON

/// A JSON-RPC error object: the codes of JSON-RPC 2.0, a message and optional data.
public struct JSONRPCError: Error, Sendable, CustomStringConvertible {
    public static let parseError = -32700
    public static let invalidRequest = -32600
    public static let methodNotFound = -32601
    public static let invalidParams = -32602
    public static let internalError = -32603
    /// MCP: the session has not been initialized yet (implementation-defined server error range).
    public static let notInitialized = -32002

    public var code: Int
    public var message: String
    public var data: JSONValue?

    public init(code: Int, message: String, data: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    public static func methodNotFound(_ method: String) -> JSONRPCError {
        JSONRPCError(code: methodNotFound, message: "Method not found: \(method)")
    }

    public static func invalidParams(_ message: String) -> JSONRPCError {
        JSONRPCError(code: invalidParams, message: message)
    }

    /// A run that failed, in seed 001's shape: `-32603 "Internal error"` with `data: {type, message}`.
    public static func runFailed(type: String, message: String) -> JSONRPCError {
        JSONRPCError(code: internalError, message: "Internal error", data: ["type": .string(type), "message": .string(message)])
    }

    public var jsonValue: JSONValue {
        var object: JSONObject = ["code": .integer(Int64(code)), "message": .string(message)]
        if let data { object["data"] = data }
        return .object(object)
    }

    public var description: String { "JSON-RPC error \(code): \(message)" }
}

extension JSONRPCError {
    /// MCP 2026-07-28: the HTTP headers do not match the body, or a required one is missing.
    public static let headerMismatch = -32020
    /// MCP 2026-07-28: serving the request needs a capability the client did not declare.
    public static let missingRequiredClientCapability = -32021
    /// MCP 2026-07-28: the request's protocol version is not one this server speaks.
    public static let unsupportedProtocolVersion = -32022

    /// `UnsupportedProtocolVersion` with the versions this server speaks, so the client can retry.
    public static func unsupportedVersion(_ requested: String, supported: [String]) -> JSONRPCError {
        JSONRPCError(
            code: unsupportedProtocolVersion, message: "Unsupported protocol version",
            data: ["supported": .array(supported.map { .string($0) }), "requested": .string(requested)])
    }

    public static func headerMismatch(_ message: String) -> JSONRPCError {
        JSONRPCError(code: headerMismatch, message: "Header mismatch: " + message)
    }
}
