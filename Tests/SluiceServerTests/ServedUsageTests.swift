import Foundation
import SluiceEngine
import SluiceFakeServices
import SluiceJSON
import SluicePlan
import SluiceProviders
import Testing

@testable import SluiceServer

/// A served run against misbehaving model services: the seed's `model_usage` messages, its end
/// event and `/metrics` all report what the fakes served, even for a run that fails.
@Suite(.timeLimit(.minutes(2))) struct ServedUsageTests {
    @Test func aServedRunWhoseAnswersNeverFitReportsWhatItsModelServed() async throws {
        let services = try SimulatedServices()
        defer { services.stop() }
        services.modelBehaviour.misbehave([.truncated, .truncated, .truncated], whenPromptContains: "Give a title")
        var providers = try RunEngine.Providers.offline(
            corpusFolder: TestPaths.corpus, documentsRoot: TestPaths.repository.path, model: SimulatedModel.Configuration(chunkDelay: .zero))
        providers.model = ProviderFactory(configuration: ProviderConfiguration(values: services.environment)).modelRouter()
        let executor = EngineRunExecutor(
            providers: providers, configuration: RunEngine.Configuration(catalog: PlanCatalog(directories: [TestPaths.fixturePlans])))
        try await ServerHarness.withServer(executor: executor) { port, _ in
            let (_, reader, _) = try await HTTP.sse(port, "POST", "/v1/plans/ask/runs", json: ["auto_confirm": true])
            let events = try await HTTP.drain(reader).map { try JSONParser.parse($0.data) }
            let served = services.modelBehaviour.served
            #expect(served.calls == 4, "the line, then the title three times")
            let usage = events.filter { $0["status"] == "model_usage" }
            #expect(usage.count == served.calls)
            #expect(usage.compactMap { $0["input_tokens"]?.integerValue }.reduce(0, +) == Int64(served.inputTokens))
            #expect(usage.compactMap { $0["outcome"]?.stringValue } == ["accepted", "truncated", "truncated", "truncated"])
            let end = try #require(events.last)
            #expect(end["status"] == "failed")
            #expect(end["usage"]?["model_calls"]?.integerValue == Int64(served.calls))
            #expect(end["usage"]?["output_tokens"]?.integerValue == Int64(served.outputTokens))
            let metrics = try await HTTP.request(port, "GET", "/metrics").text
            #expect(metrics.contains(#"sluice_model_tokens_total{model="openai:gpt-4o-mini",direction="input"} \#(served.inputTokens)"#), "\(metrics)")
            #expect(metrics.contains(#"sluice_model_tokens_total{model="openai:gpt-4o-mini",direction="output"} \#(served.outputTokens)"#))
        }
    }
}
