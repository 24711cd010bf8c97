import SluiceJSON

/// Time of a JSON Schema `pattern` check against 10 KB of hostile text, through
/// ``JSONSchema/isValid(_:)`` as a step's output check does. On ICU's backtracking engine
/// `(.*a){16}$` took 46 s on 41 characters (issue #12); on the linear engine each case is one
/// pass over the text, costing text length × live NFA states: small patterns stay near the
/// benign baseline, and the last case shows what the 10,000-instruction cap still allows.
struct SchemaPatternBenchmark: Benchmark {
    let name = "schema_pattern_hostile_10kb"

    /// (pattern, text): every hostile text fails its pattern at the very end, the worst case.
    static let cases: [(String, String)] = [
        ("^[a-z][a-z0-9_]*$", String(repeating: "a", count: 10_000) + "!"),
        ("(.*a){16}$", String(repeating: "a", count: 10_000) + "!"),
        ("^(a+)+$", String(repeating: "a", count: 10_000) + "!"),
        ("(a|aa)+$", String(repeating: "a", count: 10_000) + "!"),
        // Near the 10,000-instruction cap with thousands of threads alive at once: the
        // worst case the cap allows, still linear but with a large constant.
        ("(?:(?:.*a){1000}){2}$", String(repeating: "a", count: 10_000) + "!"),
    ]

    struct UnexpectedMatch: Error, CustomStringConvertible {
        var description: String
    }

    func run(_ context: BenchmarkContext) throws -> JSONValue {
        var results = JSONObject()
        for (pattern, text) in Self.cases {
            let schema = try JSONSchema(.object(["type": "string", "pattern": .string(pattern)]))
            let instance = JSONValue.string(text)
            var valid = true
            let seconds = context.bestTime { valid = schema.isValid(instance) }
            guard !valid else { throw UnexpectedMatch(description: "'\(pattern)' matched its hostile text") }
            results[pattern] = (seconds * 1e3).rounded(places: 3)
        }
        return ["text_scalars": .integer(10_001), "ms_by_pattern": .object(results)]
    }
}
