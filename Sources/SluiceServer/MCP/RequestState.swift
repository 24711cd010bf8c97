import Foundation
import SluiceJSON

/// The `requestState` of an MCP 2026-07-28 input-required answer: which waiting run a retry
/// continues, signed with the server's secret so a client can neither forge nor alter it.
///
/// The spec makes `requestState` attacker-controlled input; this one decides which run gets
/// an answer, so it carries the user, the run, the tool call it belongs to (name and a digest
/// of the arguments), an expiry, and a nonce the server consumes on use (replays are refused).
/// Wire form: `base64url(payload JSON) "." base64url(HMAC-SHA256(secret, first part))`.
struct RequestState: Sendable, Equatable {
    var user: String
    var runID: String
    /// The `confirm` step asked, and the `seq` of its `input.requested` event: a server that
    /// does not hold the run finds the question in the stored log.
    var step: String
    var seq: Int
    /// One per question asked: the server accepts it once.
    var nonce: String
    var tool: String
    /// SHA-256 of the call's arguments with object keys sorted.
    var argumentsDigest: String
    /// Seconds since 1970 after which the state is refused.
    var expires: Int64

    /// Why a presented state was refused (the client gets the message, never the details).
    enum Refusal: Error, Equatable {
        case malformed, badSignature, expired, otherUser, otherCall
    }

    func encoded(secret: [UInt8]) -> String {
        let payload: JSONValue = [
            "v": 1, "u": .string(user), "r": .string(runID), "s": .string(step), "q": .integer(Int64(seq)), "n": .string(nonce),
            "t": .string(tool), "a": .string(argumentsDigest), "e": .integer(expires),
        ]
        let body = Self.base64URL(payload.jsonBytes)
        return body + "." + Self.base64URL(SHA256.hmac(key: secret, message: Array(body.utf8)))
    }

    /// Verifies the signature first, then the binding to this user, this call and the clock.
    static func verify(
        _ text: String, secret: [UInt8], user: String, tool: String, arguments: JSONValue, now: Date = Date()
    ) throws(Refusal) -> RequestState {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let mac = fromBase64URL(String(parts[1])) else { throw .malformed }
        let expected = SHA256.hmac(key: secret, message: Array(parts[0].utf8))
        guard SHA256.constantTimeEqual(mac, expected) else { throw .badSignature }
        guard let bytes = fromBase64URL(String(parts[0])), let payload = try? JSONParser.parse(bytes),
            payload["v"]?.integerValue == 1,
            let stateUser = payload["u"]?.stringValue, let run = payload["r"]?.stringValue, let nonce = payload["n"]?.stringValue,
            let step = payload["s"]?.stringValue, let seq = payload["q"]?.integerValue,
            let stateTool = payload["t"]?.stringValue, let digest = payload["a"]?.stringValue, let expires = payload["e"]?.integerValue
        else { throw .malformed }
        let state = RequestState(
            user: stateUser, runID: run, step: step, seq: Int(seq), nonce: nonce, tool: stateTool, argumentsDigest: digest, expires: expires)
        guard state.user == user else { throw .otherUser }
        guard state.tool == tool, state.argumentsDigest == Self.digest(of: arguments) else { throw .otherCall }
        guard Int64(now.timeIntervalSince1970) <= state.expires else { throw .expired }
        return state
    }

    /// The digest binding a state to the call's arguments, whatever their key order.
    static func digest(of arguments: JSONValue) -> String {
        SHA256.hash(canonical(arguments).jsonBytes).map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
    }

    private static func canonical(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let object):
            return .object(JSONObject(object.keys.sorted().map { ($0, canonical(object[$0] ?? .null)) }))
        case .array(let items):
            return .array(items.map(canonical))
        default:
            return value
        }
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func fromBase64URL(_ text: String) -> [UInt8]? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64).map { Array($0) }
    }
}
