import Foundation
import SluiceJSON
import SluicePlan

/// Validate time of plans sized to expose super-linear checks: one template with 20,000 tags,
/// one template whose text holds 20,000 `${`, and a chain of 2,000 steps each reading the one
/// before; and one template with 20,000 tags naming a step that does not exist (20,000 problems,
/// each placed at its line and column). Each used to take seconds to minutes (quadratic); all
/// should stay well under a second.
struct LargePlanValidateBenchmark: Benchmark {
    let name = "plan_validate_large"

    static let inputs = #""inputs": {"type": "object", "properties": {"x": {"type": "string"}}, "required": ["x"]}"#

    /// The plans measured, by result key.
    static var plans: [(String, String)] {
        let tags = String(repeating: "{{inputs.x}}", count: 20_000)
        let badTags = String(repeating: "{{steps.nope.output}}", count: 20_000)
        let dollars = "{{inputs.x}} " + String(repeating: "${inputs.x}", count: 20_000)
        let chain = (1..<2_000).map { #"{"id": "s\#($0)", "kind": "set", "value": "${steps.s\#($0 - 1).output}"}"# }
        return [
            ("template_20000_tags", #"{"name": "tags", \#(inputs), "steps": [{"id": "t", "kind": "template", "template": "\#(tags)"}]}"#),
            ("template_20000_dollar_braces", #"{"name": "dollars", \#(inputs), "steps": [{"id": "t", "kind": "template", "template": "\#(dollars)"}]}"#),
            ("template_20000_bad_tags", #"{"name": "bad", \#(inputs), "steps": [{"id": "t", "kind": "template", "template": "\#(badTags)"}]}"#),
            ("chain_2000_steps", #"{"name": "chain", \#(inputs), "steps": [{"id": "s0", "kind": "set", "value": "${inputs.x}"}, \#(chain.joined(separator: ", "))]}"#),
        ]
    }

    func run(_ context: BenchmarkContext) throws -> JSONValue {
        let loader = PlanLoader()
        var results: [(String, JSONValue)] = []
        for (key, text) in Self.plans {
            let bytes = Array(text.utf8)
            // The plan with bad tags is meant to fail: its 20,000 diagnostics are the work measured.
            let seconds = context.bestTime { _ = try? loader.load(bytes: bytes, path: "\(key).json") }
            results.append(("\(key)_ms", (seconds * 1e3).rounded(places: 3)))
        }
        return .object(JSONObject(results))
    }
}
