public import SluiceJSON

/// One JSON-RPC 2.0 message as MCP uses it: a request, a notification, a result or an error.
///
/// Ids stay the JSON value the peer sent (a string or an integer), so a reply echoes it exactly.
public enum JSONRPCMessage: Sendable {
    case request(id: JSONValue, method: String, params: JSONValue?)
    case notification(method: String, params: JSONValue?)
    case result(id: JSONValue, result: JSONValue)
    /// `id` is null when the request's id could not be read (a parse error).
    case error(id: JSONValue, error: JSONRPCError)

    /// Reads one message from a parsed JSON value.
    ///
    /// #### Errors
    /// ``JSONRPCError`` `-32600` when the value is not a single well-formed message; batches
    /// (arrays) are refused, as MCP 2025-06-18 and later no longer allow them.
    public init(_ value: JSONValue) throws(JSONRPCError) {
        guard case .object(let object) = value else {
            if case .array = value {
                throw JSONRPCError(code: JSONRPCError.invalidRequest, message: "Invalid Request: batches are not supported (MCP 2025-06-18 and later)")
            }
            throw JSONRPCError(code: JSONRPCError.invalidRequest, message: "Invalid Request: expected a JSON object, got \(value.typeName)")
        }
        guard object["jsonrpc"]?.stringValue == "2.0" else {
            throw JSONRPCError(code: JSONRPCError.invalidRequest, message: "Invalid Request: 'jsonrpc' must be \"2.0\"")
        }
        let id = object["id"]
        if let id, !Self.isValidID(id) {
            throw JSONRPCError(code: JSONRPCError.invalidRequest, message: "Invalid Request: 'id' must be a string or an integer")
        }
        let params = object["params"]
        if let params, params.objectValue == nil, params.arrayValue == nil {
            throw JSONRPCError(code: JSONRPCError.invalidRequest, message: "Invalid Request: 'params' must be an object")
        }
        if let methodValue = object["method"] {
            guard let method = methodValue.stringValue else {
                throw JSONRPCError(code: JSONRPCError.invalidRequest, message: "Invalid Request: 'method' must be a string")
            }
            if let id {
                self = .request(id: id, method: method, params: params)
            } else {
                self = .notification(method: method, params: params)
            }
            return
        }
        if let result = object["result"], let id {
            self = .result(id: id, result: result)
            return
        }
        if let errorValue = object["error"] {
            guard let code = errorValue["code"]?.integerValue, let message = errorValue["message"]?.stringValue else {
                throw JSONRPCError(code: JSONRPCError.invalidRequest, message: "Invalid Request: 'error' needs an integer 'code' and a string 'message'")
            }
            self = .error(id: id ?? .null, error: JSONRPCError(code: Int(code), message: message, data: errorValue["data"]))
            return
        }
        throw JSONRPCError(code: JSONRPCError.invalidRequest, message: "Invalid Request: neither a request, a notification nor a response")
    }

    /// Parses one message from its bytes (one line of stdio, one POST body).
    public static func parse(_ bytes: [UInt8]) throws(JSONRPCError) -> JSONRPCMessage {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw JSONRPCError(code: JSONRPCError.parseError, message: "Parse error: \(error)")
        }
        return try JSONRPCMessage(value)
    }

    private static func isValidID(_ id: JSONValue) -> Bool {
        switch id {
        case .string, .integer: true
        default: false
        }
    }

    /// The message as a JSON object.
    public var jsonValue: JSONValue {
        var object: JSONObject = ["jsonrpc": "2.0"]
        switch self {
        case .request(let id, let method, let params):
            object["id"] = id
            object["method"] = .string(method)
            if let params { object["params"] = params }
        case .notification(let method, let params):
            object["method"] = .string(method)
            if let params { object["params"] = params }
        case .result(let id, let result):
            object["id"] = id
            object["result"] = result
        case .error(let id, let error):
            object["id"] = id
            object["error"] = error.jsonValue
        }
        return .object(object)
    }

    /// Compact JSON without newlines (JSON escapes every control character inside strings).
    public var serialized: String { jsonValue.serialized(pretty: false) }

    /// Whether this is a response (result or error) to a request the other side sent.
    public var isResponse: Bool {
        switch self {
        case .result, .error: true
        default: false
        }
    }

    public var method: String? {
        switch self {
        case .request(_, let method, _), .notification(let method, _): method
        default: nil
        }
    }
}
