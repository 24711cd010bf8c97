import Foundation
import SluiceJSON
import Testing
@testable import SluiceServer

/// SHA-256 and HMAC-SHA256 against published vectors; the signed `requestState` of MCP
/// 2026-07-28 input requests; plan schemas in the 2020-12 dialect.
@Suite struct RequestStateTests {
    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    /// FIPS 180-4 examples (one block, empty, two blocks).
    @Test(arguments: [
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func sha256MatchesTheStandard(message: String, digest: String) {
        #expect(Self.hex(SHA256.hash(Array(message.utf8))) == digest)
    }

    struct Vector: Sendable {
        var key: [UInt8]
        var data: [UInt8]
        var mac: String
    }

    /// RFC 4231 test cases 1-7 (case 5 compares the truncated 128 bits, as the RFC does).
    static let rfc4231: [Vector] = [
        Vector(key: [UInt8](repeating: 0x0b, count: 20), data: Array("Hi There".utf8), mac: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        Vector(key: Array("Jefe".utf8), data: Array("what do ya want for nothing?".utf8), mac: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        Vector(key: [UInt8](repeating: 0xaa, count: 20), data: [UInt8](repeating: 0xdd, count: 50), mac: "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
        Vector(key: Array(1...25), data: [UInt8](repeating: 0xcd, count: 50), mac: "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
        Vector(key: [UInt8](repeating: 0x0c, count: 20), data: Array("Test With Truncation".utf8), mac: "a3b6167473100ee06e0c796c2955552b"),
        Vector(
            key: [UInt8](repeating: 0xaa, count: 131), data: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
            mac: "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
        Vector(
            key: [UInt8](repeating: 0xaa, count: 131),
            data: Array("This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.".utf8),
            mac: "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
    ]

    @Test(arguments: rfc4231)
    func hmacMatchesRFC4231(vector: Vector) {
        #expect(Self.hex(SHA256.hmac(key: vector.key, message: vector.data)).hasPrefix(vector.mac))
    }

    static let secret = Array("a test secret of thirty-two byte".utf8)
    static let arguments: JSONValue = ["topic": "tides", "auto_confirm": false]

    static func state(expires: Int64 = Int64(Date().timeIntervalSince1970) + 60) -> RequestState {
        RequestState(user: "alice", runID: "run_1", step: "approve", seq: 3, nonce: "n1", tool: "ask", argumentsDigest: RequestState.digest(of: arguments), expires: expires)
    }

    @Test func aSignedStateVerifiesForItsUserAndCallOnly() throws {
        // One state, made once: two calls of `state()` a second apart would differ in `expires`.
        let state = Self.state()
        let text = state.encoded(secret: Self.secret)
        // Key order does not matter: the digest is over sorted keys.
        let reordered: JSONValue = ["auto_confirm": false, "topic": "tides"]
        #expect(try RequestState.verify(text, secret: Self.secret, user: "alice", tool: "ask", arguments: reordered) == state)

        func refusal(_ text: String, secret: [UInt8] = Self.secret, user: String = "alice", tool: String = "ask", arguments: JSONValue = Self.arguments) -> RequestState.Refusal? {
            do {
                _ = try RequestState.verify(text, secret: secret, user: user, tool: tool, arguments: arguments)
                return nil
            } catch {
                return error
            }
        }
        #expect(refusal(text, user: "bob") == .otherUser)
        #expect(refusal(text, tool: "echo") == .otherCall)
        #expect(refusal(text, arguments: ["topic": "floods", "auto_confirm": false]) == .otherCall)
        #expect(refusal(text, secret: Array("another secret".utf8)) == .badSignature)
        #expect(refusal(Self.state(expires: 1).encoded(secret: Self.secret)) == .expired)
        #expect(refusal("garbage") == .malformed)

        // A payload edited by the client (another run) no longer matches its MAC.
        let parts = text.split(separator: ".").map(String.init)
        var payload = try JSONParser.parse(try #require(RequestState.fromBase64URL(parts[0])))
        payload = .object((payload.objectValue ?? JSONObject()).merging(["r": "run_2"]))
        #expect(refusal(RequestState.base64URL(payload.jsonBytes) + "." + parts[1]) == .badSignature)
        // A MAC the client computed without the secret fails too.
        let forged = RequestState.base64URL(payload.jsonBytes)
        #expect(refusal(forged + "." + RequestState.base64URL(SHA256.hmac(key: [], message: Array(forged.utf8)))) == .badSignature)
    }

    @Test func draft07HabitsBecome2020Spellings() {
        let schema: JSONValue = [
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "definitions": ["point": ["type": "array", "items": [["type": "number"], ["type": "number"]], "additionalItems": false]],
            "properties": ["at": ["$ref": "#/definitions/point"], "tags": ["type": "array", "items": ["type": "string"]]],
        ]
        let converted = SchemaDialect.draft2020(schema)
        #expect(converted["$schema"] == nil)
        #expect(converted["definitions"] == nil)
        #expect(converted["$defs"]?["point"]?["prefixItems"]?.arrayValue?.count == 2)
        #expect(converted["$defs"]?["point"]?["items"] == false)
        #expect(converted["properties"]?["at"]?["$ref"] == "#/$defs/point")
        #expect(converted["properties"]?["tags"]?["items"]?["type"] == "string")
    }
}

extension JSONObject {
    fileprivate func merging(_ other: JSONObject) -> JSONObject {
        var result = self
        for key in other.keys { result[key] = other[key] }
        return result
    }
}
