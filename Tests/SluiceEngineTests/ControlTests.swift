import Foundation
import SluiceEngine
import SluiceJSON
import SluicePlan
import SluiceProviders
import SluiceRunLog
import SluiceTesting
import Testing

/// confirm, call, inputs and billing.
@Suite struct ControlTests {
    static let confirmPlan = #"""
    {"name": "p", "inputs": {"type": "object", "properties": {"auto": {"type": "boolean", "default": false}}},
     "steps": [{"id": "ok", "kind": "confirm", "message": "Go on with {{inputs.auto}}?", "details": {"a": 1}, "auto_approve": "inputs.auto" FALLBACK}]}
    """#

    static func confirmPlan(fallback: String?) throws -> Plan {
        try Harness.plan(confirmPlan.replacingOccurrences(of: "FALLBACK", with: fallback.map { #", "fallback": "\#($0)""# } ?? ""))
    }

    @Test func autoApproveSkipsAsking() async throws {
        let (outcome, events) = await Harness.run(try Self.confirmPlan(fallback: nil), inputs: ["auto": true])
        #expect(outcome.status == .completed)
        #expect(outcome.result?["ok"]?["approved"] == true)
        #expect(events.of(.inputRequested).isEmpty)
    }

    @Test func withNobodyToAskItFailsClearlyByDefault() async throws {
        let (outcome, _) = await Harness.run(try Self.confirmPlan(fallback: nil))
        #expect(outcome.status == .failed)
        #expect(outcome.failure?.kind == .confirmationRefused)
        #expect(outcome.failure?.message.contains("nobody to ask") == true)
        let (approved, _) = await Harness.run(try Self.confirmPlan(fallback: "approve"))
        #expect(approved.status == .completed)
    }

    @Test(arguments: [true, false])
    func theInputProviderDecides(approve: Bool) async throws {
        let providers = Harness.providers(input: FixedInputProvider(approve: approve))
        let (outcome, events) = await Harness.run(try Self.confirmPlan(fallback: nil), providers: providers)
        #expect(outcome.status == (approve ? .completed : .failed))
        let requested = try #require(events.of(.inputRequested).first)
        #expect(requested.data["message"] == "Go on with false?")
        #expect(requested.data["details"] == ["a": 1])
        if !approve { #expect(outcome.failure?.kind == .confirmationRefused) }
        #expect(EventInvariants.violations(events) == [])
    }

    @Test func callRunsAnotherPlanWithItsInputsAndDefaults() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-call-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try #"""
        {"name": "child", "inputs": {"type": "object", "properties": {"x": {"type": "integer"}, "y": {"type": "integer", "default": 10}}, "required": ["x"]},
         "steps": [{"id": "sum", "kind": "set", "value": "${inputs.x + inputs.y}"}],
         "output": {"value": {"sum": "${steps.sum.output}"}}}
        """#.write(toFile: folder + "/child.json", atomically: true, encoding: .utf8)
        let parentJSON = #"""
        {"name": "parent", "steps": [{"id": "sub", "kind": "call", "plan": "child", "inputs": {"x": "${inputs.n}"}}],
         "output": {"value": "${steps.sub.output.sum}"}}
        """#
        try parentJSON.write(toFile: folder + "/parent.json", atomically: true, encoding: .utf8)
        let catalog = PlanCatalog(directories: [folder])
        let plan = try PlanLoader(catalog: catalog).load(path: folder + "/parent.json")
        let (outcome, events) = await Harness.run(plan, inputs: ["n": 5], configuration: Harness.configuration(catalog: catalog))
        #expect(outcome.status == .completed, "\(outcome.failure?.description ?? "")")
        #expect(outcome.result == 15)
        #expect(events.of(.stepCompleted, step: "sub.sum").count == 1, "the child's steps are prefixed with the call step")
        #expect(EventInvariants.violations(events) == [])
    }

    @Test func aCalledPlanMayReuseAStepIdWithAnotherSchema() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-ids-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try #"""
        {"name": "child", "models": {"default": "x:m"},
         "steps": [{"id": "facts", "kind": "llm", "prompt": "child", "schema": {"type": "object", "properties": {"b": {"type": "string"}}, "required": ["b"]}}],
         "output": {"value": "${steps.facts.output.b}"}}
        """#.write(toFile: folder + "/child.json", atomically: true, encoding: .utf8)
        try #"""
        {"name": "parent", "models": {"default": "x:m"},
         "steps": [{"id": "facts", "kind": "llm", "prompt": "parent", "schema": {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}},
                   {"id": "sub", "kind": "call", "plan": "child"}],
         "output": {"value": {"a": "${steps.facts.output.a}", "b": "${steps.sub.output}"}}}
        """#.write(toFile: folder + "/parent.json", atomically: true, encoding: .utf8)
        let catalog = PlanCatalog(directories: [folder])
        let plan = try PlanLoader(catalog: catalog).load(path: folder + "/parent.json")
        let model = ScriptedModel { request, _ in request.prompt == "parent" ? #"{"a": 1}"# : #"{"b": "x"}"# }
        let (outcome, _) = await Harness.run(plan, providers: Harness.providers(model: model), configuration: Harness.configuration(catalog: catalog))
        #expect(outcome.status == .completed, "\(outcome.failure?.description ?? "")")
        #expect(outcome.result == ["a": 1, "b": "x"])
    }

    @Test func invalidInputsFailTheRunListingEveryInputByName() async throws {
        let plan = try Harness.plan(#"""
        {"name": "p", "inputs": {"type": "object", "additionalProperties": false, "required": ["task"],
          "properties": {"task": {"type": "string"}, "days": {"type": "integer", "minimum": 1, "default": 7}}},
         "steps": [{"id": "x", "kind": "set", "value": 1}]}
        """#)
        let (outcome, events) = await Harness.run(plan, inputs: ["days": 0, "extra": true])
        #expect(outcome.status == .failed)
        #expect(outcome.failure?.kind == .invalidInputs)
        let errors = events.last?.data["errors"]?.arrayValue?.compactMap { $0["name"]?.stringValue }.sorted()
        #expect(errors == ["days", "extra", "task"])
        #expect(events.map(\.type) == [.runStarted, .runFailed])
    }

    @Test func inputsAndStructuredOutputsAreBoundByTheirSchemaTypes() async throws {
        let plan = try Harness.plan(#"""
        {"name": "p", "models": {"default": "x:m"},
         "inputs": {"type": "object", "properties": {"threshold": {"type": "number"}}, "required": ["threshold"]},
         "steps": [
           {"id": "judge", "kind": "llm", "prompt": "score", "schema": {"type": "object", "properties": {"score": {"type": "number"}}, "required": ["score"]}},
           {"id": "mix", "kind": "set", "value": "${inputs.threshold * 1.5 + steps.judge.output.score * 0.5}"}
         ]}
        """#)
        let model = ScriptedModel(answer: #"{"score": 4}"#)
        let (outcome, _) = await Harness.run(plan, inputs: ["threshold": 8], providers: Harness.providers(model: model))
        #expect(outcome.status == .completed, "\(outcome.failure?.description ?? "")")
        #expect(outcome.result?["mix"] == 14.0)
    }

    @Test func defaultsAreAppliedBeforeTheRun() throws {
        let schema: JSONValue = ["type": "object", "properties": ["days": ["type": "integer", "default": 7], "task": ["type": "string"]]]
        #expect(try RunInputs.prepare(["task": "t"], schema: schema) == ["task": "t", "days": 7])
        #expect(try RunInputs.prepare(["task": "t", "days": 2], schema: schema) == ["task": "t", "days": 2])
    }

    /// A schema given as an input must compile: a lookaround `pattern` is an input error (a 400
    /// over HTTP), named by the input and placed inside the schema.
    @Test func schemaInputsMustCompile() throws {
        let schema: JSONValue = ["type": "object", "properties": ["schema": ["type": "object"]]]
        let refused: JSONValue = ["schema": ["properties": ["code": ["type": "string", "pattern": "^(?!x)"]]]]
        #expect(throws: Never.self) { try RunInputs.prepare(refused, schema: schema) }
        #expect {
            try RunInputs.prepare(refused, schema: schema, schemaInputs: ["schema"])
        } throws: { error in
            (error as? InputErrors)?.errors == [InputError(
                name: "schema",
                message: "is not a usable JSON Schema: pattern '^(?!x)' uses a negative lookahead ((?!…)), which Sluice does not support: patterns run on a linear-time engine (at /properties/code/pattern)")]
        }
        #expect(throws: Never.self) { try RunInputs.prepare(["schema": ["pattern": "^[a-z]+$"]], schema: schema, schemaInputs: ["schema"]) }
    }

    @Test func perItemBillingCountsTheItemsAndFailedRunsAreNotBilled() async throws {
        let plan = try Harness.plan(#"""
        {"name": "p", "billing": {"mode": "per_item", "items": "steps.found.output", "unit_price_usd": 0.5},
         "steps": [{"id": "found", "kind": "set", "value": [1, 2, 3]}]}
        """#)
        let (outcome, events) = await Harness.run(plan)
        #expect(outcome.billing == ["status": "completed", "mode": "per_item", "billable": true, "units": 3, "unit_price_usd": 0.5, "amount_usd": 1.5])
        #expect(events.last?.data["billing"] == outcome.billing)
        let perRun = try Harness.plan(#"{"name": "p", "steps": [{"id": "x", "kind": "set", "value": 1}]}"#)
        #expect(await Harness.run(perRun).0.billing["units"] == 1)
    }
}

@Suite struct InputParserTests {
    let parser = InputParser(schema: [
        "type": "object",
        "properties": [
            "task": ["type": "string"], "days": ["type": "integer"], "threshold": ["type": "number"],
            "auto": ["type": "boolean"], "tags": ["type": "array"], "opts": ["type": "object"],
            "maybe": ["type": ["integer", "null"]],
        ],
    ])

    @Test func valuesAreTypedByTheSchema() throws {
        let inputs = try parser.parse([
            "task=AI agents = news", "days=3", "threshold=7.5", "auto=no", #"tags=["a","b"]"#, #"opts={"k":1}"#,
            "maybe=null", "free=42", "text=hello",
        ])
        #expect(inputs == [
            "task": "AI agents = news", "days": 3, "threshold": 7.5, "auto": false, "tags": ["a", "b"], "opts": ["k": 1],
            "maybe": .null, "free": 42, "text": "hello",
        ])
    }

    @Test func everyBadPairIsReportedByName() {
        do {
            _ = try parser.parse(["days=three", "auto=maybe", "tags={}", "novalue", "threshold=1e999"])
            Issue.record("expected errors")
        } catch {
            #expect(error.errors.map(\.name) == ["days", "auto", "tags", "novalue", "threshold"])
            #expect(error.description.contains("input 'days': expects an integer, got 'three'"))
        }
    }

    @Test func listsAndObjectsSayWhatWasExpectedInWords() {
        #expect(throws: InputError(name: "tags", message: #"expects a JSON array such as ["a", "b"]; got finances"#)) {
            try parser.value(of: "finances", for: "tags")
        }
        #expect(throws: InputError(name: "opts", message: #"expects a JSON object such as {"name": "value"}; got [1]"#)) {
            try parser.value(of: "[1]", for: "opts")
        }
        do {
            _ = try parser.value(of: #"["a",]"#, for: "tags")
            Issue.record("expected an error")
        } catch {
            #expect(error.message.hasPrefix(#"expects a JSON array such as ["a", "b"]; got ["a",] ("#), "JSON with a mistake keeps the parser's reason")
        }
    }

    @Test func anUnknownInputOfAClosedSchemaSuggestsTheNearestOne() {
        let schema: JSONValue = ["type": "object", "properties": ["depth": ["type": "integer"]], "additionalProperties": false]
        #expect(throws: InputErrors.self) { try RunInputs.prepare(["dept": 2], schema: schema) }
        do {
            _ = try RunInputs.prepare(["dept": 2, "colour": "red"], schema: schema)
        } catch {
            #expect(error.description.contains("input 'dept': is not an input of this plan — did you mean 'depth'?"))
            #expect(error.description.contains("input 'colour': is not an input of this plan\n") || error.description.hasSuffix("input 'colour': is not an input of this plan"))
        }
    }

    @Test func laterPairsReplaceEarlierOnesAndTheBase() throws {
        let inputs = try parser.parse(["days=1", "days=2"], base: ["days": 9, "task": "from file"])
        #expect(inputs == ["days": 2, "task": "from file"])
    }
}
