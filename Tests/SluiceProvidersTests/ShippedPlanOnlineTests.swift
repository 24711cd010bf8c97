import Foundation
import SluiceEngine
import SluiceFakeServices
import SluiceJSON
import SluicePlan
import SluiceRunLog
import SluiceTesting
import Testing

@testable import SluiceProviders

/// Every shipped plan and the example, run with the real providers (libcurl, the OpenAI and
/// Anthropic wire formats, the search APIs, fetch) against the loopback fakes.
@Suite("Shipped plans online against loopback fakes")
struct ShippedPlanOnlineTests {
    static let cases: [(plan: String, model: String, inputs: JSONValue)] = [
        ("news_report", "openai:gpt-4o-mini", ["task": "Major events in the AI agent industry this week", "max_iterations": 2]),
        ("research_report", "anthropic:claude-sonnet-4-5", ["task": "How are AI agents evaluated?", "max_iterations": 1]),
        ("industry_analysis", "openai:gpt-4o-mini", ["task": "The AI agent infrastructure market", "max_iterations": 1]),
        ("extraction", "anthropic:claude-sonnet-4-5", ["document_path": "samples/contract.md"]),
        ("auto", "openai:gpt-4o-mini", ["task": "生成AI Agent领域最近一周的行业重大事件报告", "max_iterations": 1]),
        ("examples/competitor_analysis", "openai:gpt-4o-mini", ["task": "Notion against its competitors in team wikis", "max_iterations": 1]),
    ]

    @Test(arguments: cases)
    func runsOnline(plan name: String, model: String, inputs: JSONValue) async throws {
        let services = try SimulatedServices()
        defer { services.stop() }
        let factory = ProviderFactory(configuration: ProviderConfiguration(values: services.environment))
        let providers = RunEngine.Providers(
            model: factory.modelRouter(), search: try factory.searchProvider(), fetch: factory.fetchProvider(),
            documents: factory.documentLoader(workingDirectory: RepositoryPaths.root)
        )
        let plans = RepositoryPaths.root + "/plans"
        let catalog = PlanCatalog(directories: [plans])
        let plan = try PlanLoader(catalog: catalog).load(path: plans + "/\(name).json")
        let sink = RecordingEventSink()
        // The plans name no model: SLUICE_MODEL decides.
        let engine = RunEngine(providers: providers, configuration: RunEngine.Configuration(catalog: catalog, defaultModel: model))
        let outcome = await engine.run(plan: plan, inputs: inputs, sinks: [sink])
        #expect(outcome.status == .completed, "\(outcome.failure?.description ?? "")")
        #expect(EventInvariants.violations(sink.events) == [])
        #expect(outcome.usage.simulated == false)
        #expect(outcome.usage.inputTokens > 0)
        let usage = sink.events.filter { $0.type == .modelUsage }.compactMap { $0.data["provider"]?.stringValue }
        #expect(Set(usage) == [String(model.prefix { $0 != ":" })])
        if model.hasPrefix("openai:") {
            #expect(services.models.requests.allSatisfy { $0.header("authorization") == "Bearer sk-fake-openai" })
        }
        if name == "extraction" {
            #expect(outcome.result?["validated_items"]?.arrayValue != nil)
            #expect(outcome.billing["mode"] == "per_item")
        } else {
            #expect(outcome.report?.isEmpty == false)
            #expect(sink.events.contains { $0.type == .stepDelta }, "report text is streamed")
            #expect(services.search.requests.isEmpty == false)
        }
    }
}
