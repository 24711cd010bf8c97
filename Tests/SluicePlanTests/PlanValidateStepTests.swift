import Foundation
import SluiceJSON
import SluicePlan
import Testing

/// The `validate` step kind, the steps' `details`, and the CEL list functions the extraction
/// plan merges chunks with (`flatten`, `distinct`).
@Suite struct PlanValidateStepTests {
    static func plan(steps: String, inputs: String = #"{"type": "object", "properties": {"schema": {"type": "object"}}, "required": ["schema"]}"#) -> String {
        #"{"name": "p", "inputs": \#(inputs), "steps": [\#(steps)]}"#
    }

    static func diagnostics(_ json: String) -> [String] {
        do {
            _ = try PlanLoader(catalog: PlanCatalog(directories: [])).load(bytes: Array(json.utf8), path: "p.json")
            return []
        } catch {
            return error.diagnostics.map { "\($0.message) (at \($0.pointer))" }
        }
    }

    @Test func aValidateStepDecodesWithALiteralOrComputedSchema() throws {
        let json = Self.plan(steps: """
            {"id": "items", "kind": "set", "value": [1, 2]},
            {"id": "literal", "kind": "validate", "items": "steps.items.output", "schema": {"type": "integer"}},
            {"id": "computed", "kind": "validate", "items": "steps.items.output", "schema": "${inputs.schema}",
             "status": "checking", "details": {"count": "${size(steps.items.output)}"}}
            """)
        let plan = try PlanLoader(catalog: PlanCatalog(directories: [])).load(bytes: Array(json.utf8), path: "p.json")
        guard case .validate(let literal) = plan.steps[1].kind, case .validate(let computed) = plan.steps[2].kind else {
            Issue.record("not validate steps")
            return
        }
        #expect(literal.items.source == "steps.items.output")
        if case .literal(let schema) = literal.schema { #expect(schema == ["type": "integer"]) } else { Issue.record("literal schema") }
        if case .expression(let expression) = computed.schema { #expect(expression.source == "inputs.schema") } else { Issue.record("computed schema") }
        #expect(plan.steps[2].details?.expressions.map(\.source) == ["size(steps.items.output)"])
        #expect(plan.steps[2].kindName == "validate")
        #expect(MermaidGraph(plan: plan).text.contains("literal (validate): steps.items.output"))
    }

    /// Inputs a validate step takes as its schema are compiled with the input checks, so a
    /// request whose schema has a refused `pattern` is a 400, not a failed run.
    @Test func schemaInputsAreTheInputsAValidateStepUsesAsItsSchema() throws {
        let json = Self.plan(steps: """
            {"id": "items", "kind": "set", "value": [1, 2]},
            {"id": "each", "kind": "map", "over": "steps.items.output", "as": "n", "steps": [
              {"id": "inner", "kind": "validate", "items": "[n]", "schema": "${inputs.schema}"}]},
            {"id": "literal", "kind": "validate", "items": "steps.items.output", "schema": {"type": "integer"}},
            {"id": "again", "kind": "validate", "items": "steps.items.output", "schema": "${ inputs.schema }"}
            """)
        let plan = try PlanLoader(catalog: PlanCatalog(directories: [])).load(bytes: Array(json.utf8), path: "p.json")
        #expect(plan.schemaInputs == ["schema"])
        let extraction = try PlanLoader(catalog: PlanCatalog(directories: [Fixtures.plans.path])).load(path: Fixtures.plans.appendingPathComponent("extraction.json").path)
        #expect(extraction.schemaInputs == ["schema"])
    }

    @Test(arguments: [
        // A literal schema is compiled when the plan is validated.
        (#"{"id": "v", "kind": "validate", "items": "[1]", "schema": {"type": "nonsense"}}"#, "invalid item schema"),
        // `items` is always an expression.
        (#"{"id": "v", "kind": "validate", "items": "${[1]}", "schema": {}}"#, "'items' is always an expression"),
        // Names in both fields are checked.
        (#"{"id": "v", "kind": "validate", "items": "steps.nope.output", "schema": {}}"#, "unknown step 'nope'"),
        (#"{"id": "v", "kind": "validate", "items": "[1]", "schema": "${inputs.shema}"}"#, "unknown input 'shema'"),
        // Both fields are required, and nothing else is allowed.
        (#"{"id": "v", "kind": "validate", "items": "[1]"}"#, "schema"),
        (#"{"id": "v", "kind": "validate", "items": "[1]", "schema": {}, "schemas": {}}"#, "schemas"),
        // A step's details are a value whose names are checked like any other.
        (#"{"id": "v", "kind": "set", "value": 1, "details": {"n": "${steps.later.output}"}}, {"id": "later", "kind": "set", "value": 2}"#, "step 'later' runs later than this point"),
    ])
    func mistakesAreReportedBeforeAnythingRuns(steps: String, expected: String) {
        let found = Self.diagnostics(Self.plan(steps: steps))
        #expect(found.contains { $0.contains(expected) }, "\(found)")
    }

    @Test(arguments: [
        ("[[1, 2], [3], []].flatten()", CELValue.list([.int(1), .int(2), .int(3)])),
        ("[[1, [2]], 3].flatten()", .list([.int(1), .list([.int(2)]), .int(3)])),
        ("[[1, [2, [3]]]].flatten(2)", .list([.int(1), .int(2), .list([.int(3)])])),
        ("[[1]].flatten(0)", .list([.list([.int(1)])])),
        ("[1, 2, 1, 1.0, 'a', 'a', {'k': 1}, {'k': 1}].distinct()", .list([.int(1), .int(2), .string("a"), .map(["k": 1])])),
        ("[].distinct()", .list([])),
        ("size([['x'], ['y', 'z']].flatten().distinct())", .int(3)),
    ])
    func listFunctions(source: String, expected: CELValue) throws {
        let value = try CELExpression(parsing: source).evaluate([:])
        #expect(value == expected)
    }

    @Test(arguments: ["[1].flatten(-1)", "'ab'.flatten()", "[1].distinct(1)"])
    func listFunctionMisuseIsAnError(source: String) throws {
        #expect(throws: CELError.self) { try CELExpression(parsing: source).evaluate([:]) }
    }

    @Test func theCheckerTypesFlattenAndDistinct() throws {
        let environment = CELTypeEnvironment(variables: ["xs": .list(.list(.string))])
        #expect(try CELExpression(parsing: "xs.flatten()").resultType(environment) == .list(.string))
        #expect(try CELExpression(parsing: "xs.flatten().distinct()").resultType(environment) == .list(.string))
        #expect(try CELExpression(parsing: "xs.flatten()[0] + 1").check(environment).isEmpty == false, "string + int")
        #expect(try CELExpression(parsing: "'s'.distinct()").check(environment).isEmpty == false)
    }
}
