import Foundation
import SluiceEngine
import SluiceFakeServices
import SluiceJSON
import SluicePlan
import SluiceTesting
import Testing

@testable import SluiceProviders

/// The real providers, built from configuration, against fakes of every service.
@Suite("Real providers end to end against loopback fakes")
struct SimulatedServicesTests {
    @Test func everyProviderWorksFromConfiguration() async throws {
        let services = try SimulatedServices()
        defer { services.stop() }
        let factory = ProviderFactory(configuration: ProviderConfiguration(values: services.environment))
        let router = factory.modelRouter()
        for model in ["openai:gpt-4o-mini", "anthropic:claude-sonnet-4-5"] {
            let id = try factory.requireModel(model)
            let text = try await router.generate(ModelRequest(model: id, prompt: "Task: AI agents this week")) { _ in }
            #expect(text.text.contains("[simulated]"))
            #expect(text.usage.inputTokens > 0)
            let structured = try await router.generate(ModelRequest(model: id, prompt: "Summarize", schema: Schemas.article)) { _ in }
            let value = try JSONParser.parse(structured.text)
            #expect(value["title"]?.stringValue != nil)
        }
        for name in ["tavily", "brave", "google", "searxng"] {
            let results = try await factory.searchProvider(named: name).search(SearchQuery(text: "AI agents", maxResults: 2, days: 7))
            #expect(results.count == 2, "\(name)")
            let page = try await factory.fetchProvider().fetch(url: try #require(results.first?.url), maxBytes: nil)
            #expect(page.text.contains("Analysts followed"), "\(name)")
            #expect(!page.text.contains("Home"), "navigation is dropped")
        }
    }
}
