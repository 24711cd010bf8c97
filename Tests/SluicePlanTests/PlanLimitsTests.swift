import SluiceJSON
import SluicePlan
import Testing

/// The size limits of `Plan.Limits`: past one, a plan gets one clear diagnostic saying which.
@Suite struct PlanLimitsTests {
    static func diagnostics(_ json: String) -> [String] {
        do {
            _ = try PlanLoader().load(bytes: Array(json.utf8), path: "p.json")
            return []
        } catch {
            return error.diagnostics.map { "\($0.code): \($0.message) (at \($0.pointer))" }
        }
    }

    /// A plan whose body steps nest `levels` deep (a map in a map in …).
    static func nested(_ levels: Int) -> String {
        var step = #"{"id": "leaf", "kind": "set", "value": 1}"#
        for level in (1..<levels).reversed() {
            step = #"{"id": "m\#(level)", "kind": "map", "over": "[1]", "steps": [\#(step)]}"#
        }
        return #"{"name": "p", "steps": [\#(step)]}"#
    }

    @Test func stepsMayNestThirtyTwoLevels() {
        #expect(Self.diagnostics(Self.nested(Plan.Limits.maxStepNesting)) == [])
        let pointer = (0..<Plan.Limits.maxStepNesting).map { _ in "/steps/0" }.joined() + "/steps"
        #expect(
            Self.diagnostics(Self.nested(Plan.Limits.maxStepNesting + 1)) == [
                "limit: steps nest deeper than 32 levels of map and loop bodies (at \(pointer))"
            ])
    }

    @Test func aPlanHasAtMostTenThousandSteps() {
        let steps = (0...Plan.Limits.maxSteps).map { #"{"id": "s\#($0)", "kind": "set", "value": 1}"# }
        let json = #"{"name": "p", "steps": [\#(steps.joined(separator: ","))]}"#
        #expect(Self.diagnostics(json) == ["limit: a plan may have at most 10000 steps, bodies included (at /steps/10000)"])
        #expect(Self.diagnostics(#"{"name": "p", "steps": [\#(steps.dropLast().joined(separator: ","))]}"#) == [])
    }
}

/// Many problems in one string are each placed at their own column (and found in one walk of
/// the string; `make bench` times it). In-process: 20,000 lines of stderr would overflow the
/// pipe CLIProcess reads after stdout.
@Suite struct ManyProblemsTests {
    @Test func twentyThousandBadTagsInOneTemplate() {
        let bad = String(repeating: "{{steps.nope.output}}", count: 20_000)
        let json = #"{"name": "bad", "steps": [{"id": "t", "kind": "template", "template": "\#(bad)"}]}"#
        do {
            _ = try PlanLoader().load(bytes: Array(json.utf8), path: "bad.json")
            Issue.record("loaded")
        } catch {
            #expect(error.diagnostics.count == 20_000)
            #expect(error.diagnostics.first?.description == "bad.json:1:72: error: unknown step 'nope' (at /steps/0/template)")
            #expect(error.diagnostics.last?.location?.column == 72 + 21 * 19_999)
        }
    }
}
