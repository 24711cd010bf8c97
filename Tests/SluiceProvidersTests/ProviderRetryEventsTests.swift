import SluiceEngine
import SluiceFakeServices
import SluiceJSON
import SluicePlan
import SluiceRunLog
import SluiceTesting
import Testing

@testable import SluiceProviders

/// A provider's own retries (here a 429 from the OpenAI fake, through libcurl) appear in the
/// run's events as `step.retrying` of the step that made the call, with the reason.
@Suite("Provider retries as step.retrying events")
struct ProviderRetryEventsTests {
    static let plan = """
        {
          "name": "one_call",
          "steps": [ { "id": "draft", "kind": "llm", "prompt": "Say hello" } ],
          "output": { "value": "${steps.draft.output}" }
        }
        """

    @Test func a429IsReportedAsStepRetryingThenTheRunCompletes() async throws {
        let server = try FakeHTTPServer.scripted([
            FakeOpenAI.error(status: 429, message: "Rate limit reached", type: "rate_limit_error", headers: [("Retry-After", "0")]),
            FakeOpenAI.stream(["hel", "lo"]),
        ])
        defer { server.stop() }
        let model = OpenAICompatibleModel(configuration: .init(
            baseURL: server.baseURL + "/v1", apiKey: "sk-test-secret-1234",
            retry: ProviderRetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(1), random: { 0.5 }, sleep: { _ in })
        ))
        let providers = RunEngine.Providers(
            model: model, search: FakeSearchProvider { _ in [] }, fetch: FakeFetchProvider(pages: [:]), documents: FakeDocumentLoader(documents: [:])
        )
        let plan = try PlanLoader().load(bytes: Array(Self.plan.utf8), path: "one_call.json")
        let sink = RecordingEventSink()
        let engine = RunEngine(providers: providers, configuration: .init(defaultModel: "openai:gpt-4o-mini"))
        let outcome = await engine.run(plan: plan, inputs: [:], sinks: [sink])

        #expect(outcome.status == .completed)
        #expect(outcome.result == "hello")
        let retrying = try #require(sink.events.first { $0.type == .stepRetrying })
        #expect(retrying.step == "draft")
        #expect(retrying.data["source"] == "provider")
        #expect(retrying.data["attempt"] == 1)
        #expect(retrying.data["reason"]?.stringValue?.contains("429") == true)
        #expect(retrying.data["reason"]?.stringValue?.contains("sk-test-secret") == false)
        #expect(EventInvariants.violations(sink.events) == [])
    }

    /// Search providers report their retries the same way, for the search step.
    @Test func aSearchProvidersRetryIsReportedForTheSearchStep() async throws {
        let server = try FakeHTTPServer.scripted([
            .text("temporarily unavailable", status: 503, headers: [("Retry-After", "0")]),
            FakeSearch.tavily(FakeHit.samples),
        ])
        defer { server.stop() }
        let search = TavilySearch(configuration: WebSearchConfiguration(
            baseURL: server.baseURL, apiKey: "tvly-secret-5678",
            retry: ProviderRetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(1), random: { 0.5 }, sleep: { _ in })
        ))
        let providers = RunEngine.Providers(
            model: SimulatedModel(configuration: .init(chunkDelay: .zero)), search: search,
            fetch: FakeFetchProvider(pages: [:]), documents: FakeDocumentLoader(documents: [:])
        )
        let plan = try PlanLoader().load(bytes: Array(#"""
            {"name": "one_search", "steps": [{"id": "look", "kind": "search", "query": "chip exports"}],
             "output": {"value": "${size(steps.look.output.results)}"}}
            """#.utf8), path: "one_search.json")
        let sink = RecordingEventSink()
        let outcome = await RunEngine(providers: providers).run(plan: plan, inputs: [:], sinks: [sink])

        #expect(outcome.status == .completed)
        #expect(outcome.result == 2)
        let retrying = try #require(sink.events.first { $0.type == .stepRetrying })
        #expect(retrying.step == "look")
        #expect(retrying.data["source"] == "provider")
        #expect(retrying.data["provider"] == "tavily")
        #expect(retrying.data["reason"]?.stringValue?.contains("503") == true)
        #expect(retrying.data["reason"]?.stringValue?.contains("tvly-secret") == false)
        #expect(EventInvariants.violations(sink.events) == [])
    }

    /// Queries that differ only in who hears their retries are the same query (a cache key).
    @Test func theRetryObserverIsNotPartOfAQuerysIdentity() {
        let plain = SearchQuery(text: "chips", maxResults: 5, days: 7)
        let observed = SearchQuery(text: "chips", maxResults: 5, days: 7, onRetry: { _ in })
        #expect(plain == observed)
        #expect(Set([plain, observed]).count == 1)
        #expect(plain != SearchQuery(text: "chips", maxResults: 6, days: 7))
    }

    /// And so do fetches, for the fetch step.
    @Test func aFetchProvidersRetryIsReportedForTheFetchStep() async throws {
        let server = try FakeHTTPServer.scripted([
            .text("busy", status: 503, headers: [("Retry-After", "0")]),
            .text("<html><head><title>Rivers</title></head><body><p>Rivers move.</p></body></html>", contentType: "text/html"),
        ])
        defer { server.stop() }
        let fetch = HTTPFetchProvider(configuration: .init(
            addressPolicy: AddressPolicy(allowLoopback: true, allowPrivate: false),
            retry: ProviderRetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(1), random: { 0.5 }, sleep: { _ in })
        ))
        let providers = RunEngine.Providers(
            model: SimulatedModel(configuration: .init(chunkDelay: .zero)), search: FakeSearchProvider { _ in [] },
            fetch: fetch, documents: FakeDocumentLoader(documents: [:])
        )
        let plan = try PlanLoader().load(bytes: Array(#"""
            {"name": "one_fetch", "inputs": {"type": "object", "properties": {"url": {"type": "string"}}, "required": ["url"]},
             "steps": [{"id": "page", "kind": "fetch", "url": "${inputs.url}"}],
             "output": {"value": "${steps.page.output.pages[0].title}"}}
            """#.utf8), path: "one_fetch.json")
        let sink = RecordingEventSink()
        let outcome = await RunEngine(providers: providers).run(plan: plan, inputs: ["url": .string(server.baseURL + "/rivers")], sinks: [sink])

        #expect(outcome.status == .completed)
        #expect(outcome.result == "Rivers")
        let retrying = try #require(sink.events.first { $0.type == .stepRetrying })
        #expect(retrying.step == "page")
        #expect(retrying.data["source"] == "provider")
        #expect(retrying.data["reason"]?.stringValue?.contains("503") == true)
        #expect(EventInvariants.violations(sink.events) == [])
    }
}
