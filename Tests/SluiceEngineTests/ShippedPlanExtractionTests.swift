import Foundation
import SluiceEngine
import SluiceJSON
import SluicePlan
import SluiceProviders
import SluiceRunLog
import SluiceTesting
import Testing

/// The extraction plan against fakes: items merged across chunks, each validated against the
/// run's schema, rejected ones with reasons, billing per validated item and none on failure,
/// and seed 000's statuses.
@Suite struct ShippedPlanExtractionTests {
    /// A document of two chunks (chunk_size 8000).
    static let document = String(repeating: "Northwind Analytics Ltd. supplies data services to Contoso. ", count: 150)

    /// Chunk 0: two valid items, one without a quote, one with a nested attribute; chunk 1: the
    /// first item again (another case), and a third valid one.
    static let items: @Sendable (ModelRequest) -> JSONValue = { request in
        let quote = "Northwind Analytics Ltd. supplies data services to Contoso."
        if request.metadata.item == 0 {
            return ["items": [
                ["type": "organization", "name": "Northwind Analytics Ltd.", "attributes": ["role": "supplier"], "quote": .string(quote)],
                ["type": "organization", "name": "Contoso", "attributes": ["role": "customer"], "quote": .string(quote)],
                ["type": "service", "name": "Data services", "attributes": [:]],
                ["type": "amount", "name": "Fee", "attributes": ["value": ["currency": "EUR"]], "quote": .string(quote)],
            ]]
        }
        return ["items": [
            ["type": "Organization", "name": "Northwind Analytics Ltd.", "attributes": [:], "quote": .string(quote)],
            ["type": "service", "name": "Data services", "attributes": ["kind": "analytics"], "quote": .string(quote)],
        ]]
    }

    static func run(inputs: JSONValue, documents: [String: String] = ["contract.txt": document]) async throws -> (RunOutcome, [RunEvent]) {
        await ShippedPlanFakes.run(
            try ShippedPlanFakes.load("extraction"), inputs: inputs,
            model: ShippedPlanFakes.model(judgeScores: [], overrides: ["chunk_items": items]),
            documents: FakeDocumentLoader(documents: documents)
        )
    }

    @Test func itemsAreMergedValidatedAndBilledPerValidatedItem() async throws {
        let (outcome, events) = try await Self.run(inputs: ["document_path": "contract.txt"])
        try #require(outcome.status == .completed, "\(outcome.failure?.description ?? "")")
        #expect(EventInvariants.violations(events) == [])
        let result = try #require(outcome.result)
        let validated = try #require(result["validated_items"]?.arrayValue)
        #expect(validated.compactMap { $0["name"]?.stringValue } == ["Northwind Analytics Ltd.", "Contoso", "Data services"])
        // Every validated item satisfies the default item schema.
        let plan = try ShippedPlanFakes.load("extraction")
        let schema = try JSONSchema(try #require(plan.inputSchema["properties"]?["schema"]?["default"]))
        for item in validated { #expect(schema.validate(item).isEmpty, "\(item)") }
        let rejected = try #require(result["rejected_items"]?.arrayValue)
        #expect(rejected.count == 2)
        for entry in rejected { #expect(entry["errors"]?.arrayValue?.isEmpty == false, "\(entry) has its reasons") }
        #expect(rejected[0]["errors"]?.arrayValue?.contains { $0.stringValue?.contains("quote") == true } == true)
        #expect(rejected[1]["errors"]?.arrayValue?.contains { $0.stringValue?.contains("/attributes/value") == true } == true)
        #expect(result["metadata"]?["chunks"] == 2)
        #expect(result["metadata"]?["duplicates_merged"] == 1)
        #expect(outcome.billing["mode"] == "per_item")
        #expect(outcome.billing["billable"] == true)
        #expect(outcome.billing["units"] == 3)
        // Seed 000's statuses, in order.
        let statuses = events.of(.stepStarted).compactMap { $0.data["status"]?.stringValue }
        #expect(statuses == ["INIT", "PLANNING", "EXTRACTION"])
    }

    @Test func itemsAreValidatedAgainstTheSchemaTheCallerGives() async throws {
        let schema: JSONValue = [
            "type": "object",
            "properties": ["type": ["const": "organization"], "name": ["type": "string"]],
            "required": ["type", "name"],
        ]
        let (outcome, _) = try await Self.run(inputs: ["document_path": "contract.txt", "schema": schema])
        try #require(outcome.status == .completed, "\(outcome.failure?.description ?? "")")
        let validated = try #require(outcome.result?["validated_items"]?.arrayValue)
        #expect(validated.compactMap { $0["name"]?.stringValue } == ["Northwind Analytics Ltd.", "Contoso"])
        let rejected = try #require(outcome.result?["rejected_items"]?.arrayValue)
        #expect(rejected.count == 4, "the service, the amount, and the differently cased organization")
        #expect(rejected.allSatisfy { $0["errors"]?[0]?.stringValue?.contains("(at /type)") == true })
        #expect(outcome.billing["units"] == 2)
    }

    @Test func aFailedRunIsNotBilled() async throws {
        let (outcome, events) = try await Self.run(inputs: ["document_path": "missing.txt"])
        #expect(outcome.status == .failed)
        #expect(outcome.billing["billable"] == false)
        #expect(events.last?.type == .runFailed)
        #expect(events.last?.data["billing"]?["billable"] == false)
    }

    /// The item schema is an input the validate step uses as it is, so it is checked with the
    /// other inputs: the run fails before any step (and any model call) runs.
    @Test func anUnusableSchemaFailsTheRunWithTheReason() async throws {
        let (outcome, events) = try await Self.run(inputs: ["document_path": "contract.txt", "schema": ["type": "nonsense"]])
        #expect(outcome.status == .failed)
        #expect(outcome.failure?.description.contains("input 'schema': is not a usable JSON Schema: 'type' names an unknown type") == true)
        #expect(!events.contains { $0.type == .stepStarted })
        #expect(outcome.billing["billable"] == false)
    }
}

/// The auto plan: it runs the plan the router picks, and research_report when the task is unclear.
@Suite struct ShippedPlanAutoTests {
    static func route(_ plan: String, confidence: Double) -> ShippedPlanFakes.Overrides {
        ["route": { _ in ["plan": .string(plan), "reason": "Because.", "confidence": .double(confidence)] }]
    }

    @Test(arguments: [
        ("industry_analysis", 0.9, false, "industry_analysis"),
        ("news_report", 0.8, false, "news_report"),
        ("news_report", 0.3, false, "research_report"),
        ("extraction", 0.9, false, "research_report"),
        ("extraction", 0.9, true, "extraction"),
    ])
    func runsTheChosenPlan(routed: String, confidence: Double, withDocument: Bool, expected: String) async throws {
        var inputs: JSONObject = ["task": "AI agents", "max_iterations": 1]
        if withDocument { inputs["document_path"] = "contract.txt" }
        let model = ShippedPlanFakes.model(
            judgeScores: [9],
            overrides: Self.route(routed, confidence: confidence).merging(["chunk_items": ShippedPlanExtractionTests.items]) { a, _ in a }
        )
        let (outcome, events) = await ShippedPlanFakes.run(
            try ShippedPlanFakes.load("auto"), inputs: .object(inputs), model: model,
            documents: FakeDocumentLoader(documents: ["contract.txt": ShippedPlanExtractionTests.document])
        )
        try #require(outcome.status == .completed, "\(outcome.failure?.description ?? "")")
        #expect(ShippedPlanFakes.outputs(events, of: "choice").first?.output.stringValue == expected)
        let ran = events.of(.stepStarted).compactMap(\.step).filter { ["news_report", "research_report", "industry_analysis", "extraction"].contains($0) }
        #expect(ran == [expected])
        #expect(outcome.result?["status"] == "completed")
        if expected == "extraction" {
            #expect(outcome.result?["validated_items"]?.arrayValue?.count == 3)
        } else {
            #expect(outcome.result?["report_content"]?.stringValue?.isEmpty == false)
        }
        let choice = events.of(.stepStarted, step: "choice").first
        #expect(choice?.data["details"]?["reason"] == "Because.")
    }
}
