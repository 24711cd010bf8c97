import Foundation
import SluiceEngine
import SluiceJSON
import SluicePlan
import SluiceProviders
import SluiceRunLog
import SluiceTesting
import Testing

/// Every shipped plan completes offline, with well-ordered events.
@Suite struct ShippedPlanOfflineTests {
    static let cases: [(plan: String, inputs: JSONValue)] = [
        ("news_report", ["task": "Major events in the AI agent industry this week"]),
        ("research_report", ["task": "How are AI agents evaluated?"]),
        ("industry_analysis", ["task": "The AI agent infrastructure market"]),
        ("extraction", ["document_path": "samples/contract.md"]),
        ("auto", ["task": "Major events in the AI agent industry this week"]),
    ]

    @Test(arguments: cases)
    func completesOffline(plan name: String, inputs: JSONValue) async throws {
        let catalog = PlanCatalog(directories: [Repository.plans])
        let plan = try PlanLoader(catalog: catalog).load(path: Repository.plans + "/\(name).json")
        let providers = try RunEngine.Providers.offline(
            corpusFolder: Repository.corpus, documentsRoot: Repository.root, model: .init(chunkDelay: .zero)
        )
        let sink = RecordingEventSink()
        // The shipped plans name no models: SLUICE_MODEL (here the simulated one) decides.
        var configuration = Harness.configuration(catalog: catalog)
        configuration.defaultModel = "simulated:offline"
        let outcome = await RunEngine(providers: providers, configuration: configuration)
            .run(plan: plan, inputs: inputs, sinks: [sink])
        let events = sink.events
        #expect(outcome.status == .completed, "\(outcome.failure?.description ?? "")")
        #expect(EventInvariants.violations(events) == [])
        #expect(events.last?.type == .runCompleted)
        #expect(outcome.usage.simulated)
        if name != "extraction" {
            #expect(outcome.report?.contains("[simulated]") == true, "the report says it is simulated")
        }
    }
}
