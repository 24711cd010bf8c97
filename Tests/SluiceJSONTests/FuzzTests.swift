import SluiceTesting
import Testing
@testable import SluiceJSON


@Suite struct FuzzTests {
    static let seeds: [String] = IncrementalParserTests.documents + [
        "{\"steps\":[{\"id\":\"a\",\"kind\":\"llm\",\"prompt\":\"Hi {{name}}\"},{\"id\":\"b\",\"when\":\"steps.a.ok\"}]}",
        "[1e5, 0.5, -0.0, 18446744073709551616, \"\\t\\u0001\", {\"\": []}]",
        "{\"a\":{\"b\":{\"c\":{\"d\":[1,[2,[3,[4]]]]}}}}",
    ]

    /// Bytes JSON cares about, so random inputs get past the first character often enough.
    static let alphabet: [UInt8] = Array("{}[]\":,-+.eE0123456789tfnrulase \n\t\\/ubx".utf8) + [0x00, 0x0B, 0x0C, 0x7F, 0xC3, 0xA9, 0xE2, 0x80, 0xF0, 0x9F, 0xFF, 0xED, 0xA0]

    @Test(.timeLimit(.minutes(2)))
    func parsersAgreeAndNeverCrash() throws {
        var rng = SeededRandom(seed: 0x5_1CE_2026)
        var successes = 0
        for iteration in 0..<20_000 {
            let input = iteration.isMultiple(of: 2) ? Self.randomBytes(&rng) : Self.mutatedDocument(&rng)
            if try check(input, using: &rng) { successes += 1 }
        }
        // The mutations must leave a fair share valid, or the round-trip half tests nothing.
        #expect(successes > 1_000)
    }

    /// Parses `input` one-shot and in random chunks; returns whether it is valid JSON.
    private func check(_ input: [UInt8], using rng: inout SeededRandom) throws -> Bool {
        let oneShot = Result { () throws(JSONParseError) in try JSONParser.parse(input) }
        let streamed = Result { () throws(JSONParseError) in
            let parser = JSONIncrementalParser()
            var start = 0
            while start < input.count {
                let end = min(input.count, start + Int.random(in: 1...9, using: &rng))
                try parser.feed(input[start..<end])
                _ = parser.partialValue
                start = end
            }
            return try parser.finish()
        }
        let context = Comment(rawValue: "input: \(input)")
        switch (oneShot, streamed) {
        case (.success(let value), .success(let other)):
            #expect(value.serialized() == other.serialized(), context)
            let written = value.serialized()
            let reread = try JSONParser.parse(written)
            #expect(reread.serialized() == written, context)
            #expect(try JSONParser.parse(value.serialized(pretty: true)).serialized() == written, context)
            return true
        case (.failure(let error), .failure(let other)):
            #expect(error.description == other.description, context)
            #expect(!error.message.hasPrefix("invalid JSON ("), "yajl and the streaming parser disagree; \(context)")
            #expect(error.location.offset <= input.count, context)
            return false
        default:
            Issue.record("one-shot \(oneShot) but streamed \(streamed); \(context)")
            return false
        }
    }

    private static func randomBytes(_ rng: inout SeededRandom) -> [UInt8] {
        let count = Int.random(in: 0...24, using: &rng)
        return (0..<count).map { _ in
            Int.random(in: 0..<10, using: &rng) == 0 ? UInt8.random(in: 0...255, using: &rng) : alphabet.randomElement(using: &rng)!
        }
    }

    private static func mutatedDocument(_ rng: inout SeededRandom) -> [UInt8] {
        var bytes = Array(seeds.randomElement(using: &rng)!.utf8)
        for _ in 0..<Int.random(in: 0...3, using: &rng) where !bytes.isEmpty {
            let position = Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<5, using: &rng) {
            case 0: bytes.remove(at: position)
            case 1: bytes.insert(alphabet.randomElement(using: &rng)!, at: position)
            case 2: bytes[position] = alphabet.randomElement(using: &rng)!
            case 3: bytes.removeSubrange(position...)
            default:
                let end = min(bytes.count, position + Int.random(in: 1...6, using: &rng))
                bytes.insert(contentsOf: bytes[position..<end], at: position)
            }
        }
        return bytes
    }
}
