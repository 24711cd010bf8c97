import SluiceJSON
import SluicePlan
import Testing

/// What an expression reads of step outputs, and the CEL values made of just those parts.
@Suite struct OutputReadsTests {
    @Test("reads of step outputs, merged per step", arguments: [
        ("steps.outline.output.sections", ["outline": OutputReads.fields(["sections": .all])]),
        ("size(steps.sources.output) > 0", ["sources": .all]),
        ("steps.a.output.x.y + steps.a.output.z", ["a": .fields(["x": .fields(["y": .all]), "z": .all])]),
        ("steps.a.output.x.y + steps.a.output.x", ["a": .fields(["x": .all])]),
        ("has(steps.a.output.maybe) ? 1 : 2", ["a": .fields(["maybe": .all])]),
        ("steps.a.output['with space']", ["a": .fields(["with space": .all])]),
        ("steps.a.output[0]", ["a": .all]),
        ("steps.a", ["a": .all]),
        ("steps.a.output.list.all(x, x.ok)", ["a": .fields(["list": .all])]),
        ("inputs.task", [:]),
    ] as [(String, [String: OutputReads])])
    func stepReads(_ source: String, _ expected: [String: OutputReads]) throws {
        let references = try CELExpression(parsing: source).references
        #expect(OutputReads.ofSteps(in: references) == expected)
    }

    @Test func usingStepsAsAWholeReadsEverything() throws {
        #expect(OutputReads.ofSteps(in: try CELExpression(parsing: "size(steps) > 0").references) == nil)
    }

    @Test func loopReads() throws {
        #expect(OutputReads.of("loop", in: try CELExpression(parsing: "inputs.x").references) == nil)
        let reads = OutputReads.of("loop", in: try CELExpression(parsing: "loop.iteration > 1 && loop.best.score < 7").references)
        #expect(reads == .fields(["iteration": .all, "best": .fields(["score": .all])]))
    }

    @Test func onlyTheReadFieldsAreConvertedAndAbsentOnesStayAbsent() throws {
        let json: JSONValue = ["title": "T", "sections": [["title": "a"]], "notes": "long text", "count": 3]
        let reads = OutputReads.fields(["sections": .all, "count": .all, "missing": .all])
        let value = CELValue(json: json, as: .object(["count": .double], closed: false), reading: reads)
        let map = try #require(value.mapValue)
        #expect(map.keys == [.string("sections"), .string("count")])
        #expect(map["count"] == .double(3))
        #expect(map["sections"] == .list([.map(CELMap([(.string("title"), .string("a"))]))]))
        // Whole reads, and field reads of something that is not an object, convert everything.
        #expect(CELValue(json: json, as: .dyn, reading: .all) == CELValue(json: json))
        #expect(CELValue(json: ["x", "y"], as: .dyn, reading: .fields(["x": .all])) == CELValue(json: ["x", "y"]))
    }
}
