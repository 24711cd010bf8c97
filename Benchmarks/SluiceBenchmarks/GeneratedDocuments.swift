import SluiceJSON

/// Deterministic JSON documents of different shapes, built with our writer.
enum GeneratedDocuments {
    /// A small deterministic generator (SplitMix64), so every run measures the same bytes.
    struct Generator {
        var state: UInt64

        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }

        mutating func int(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
    }

    static let words = ["report", "market", "analysis", "growth", "risk", "quarter", "revenue", "model",
                        "überblick", "données", "市场", "分析", "📈", "say \"hi\"", "tab\there", "line\nbreak"]

    /// An array of API-like records: strings, integers, doubles, booleans, nested arrays.
    static func records(approximateBytes: Int, seed: UInt64 = 1) -> [UInt8] {
        var generator = Generator(state: seed)
        var items: [JSONValue] = []
        var size = 0
        while size < approximateBytes {
            let item: JSONValue = [
                "id": .integer(Int64(items.count)),
                "title": .string(sentence(&generator, words: 4)),
                "score": .double(Double(generator.int(100_000)) / 100),
                "active": .bool(generator.int(2) == 0),
                "tags": .array((0..<generator.int(5)).map { _ in .string(words[generator.int(words.count)]) }),
                "owner": ["name": .string(sentence(&generator, words: 2)), "age": .integer(Int64(generator.int(90)))],
                "note": generator.int(4) == 0 ? .null : .string(sentence(&generator, words: 12)),
            ]
            size += item.jsonBytes.count + 1
            items.append(item)
        }
        return JSONValue.array(items).jsonBytes
    }

    /// Long prose strings with escapes and non-ASCII text.
    static func text(approximateBytes: Int, seed: UInt64 = 2) -> [UInt8] {
        var generator = Generator(state: seed)
        var paragraphs: [JSONValue] = []
        var size = 0
        while size < approximateBytes {
            let paragraph = sentence(&generator, words: 200)
            size += paragraph.utf8.count + 4
            paragraphs.append(.string(paragraph))
        }
        return JSONValue.object(JSONObject([("paragraphs", .array(paragraphs))])).jsonBytes
    }

    /// Numbers only: integers and doubles.
    static func numbers(approximateBytes: Int, seed: UInt64 = 3) -> [UInt8] {
        var generator = Generator(state: seed)
        var values: [JSONValue] = []
        var size = 0
        while size < approximateBytes {
            let value: JSONValue = generator.int(2) == 0
                ? .integer(Int64(generator.int(1 << 40)) - (1 << 39))
                : .double(Double(generator.int(1 << 30)) / Double(1 + generator.int(1000)))
            size += value.jsonBytes.count + 1
            values.append(value)
        }
        return JSONValue.array(values).jsonBytes
    }

    private static func sentence(_ generator: inout Generator, words count: Int) -> String {
        (0..<count).map { _ in words[generator.int(words.count)] }.joined(separator: " ")
    }
}
