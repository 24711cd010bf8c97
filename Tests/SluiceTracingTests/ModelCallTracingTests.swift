import SluiceEngine
import SluiceFakeServices
import SluiceJSON
import SluicePlan
import SluiceProviders
import SluiceRunLog
import SluiceTesting
import SluiceTracing
import Testing

/// A traced run against the OpenAI fake (through libcurl): each HTTP request to the model
/// carries the `traceparent` of its own model-call span, a provider retry keeps the span,
/// and the span gets the call's tokens.
@Suite struct ModelCallTracingTests {
    static let plan = """
        {
          "name": "two_calls",
          "steps": [
            { "id": "draft", "kind": "llm", "prompt": "Say hello" },
            { "id": "polish", "kind": "llm", "prompt": "Polish ${steps.draft.output}" }
          ],
          "output": { "value": "${steps.polish.output}" }
        }
        """

    @Test func eachModelRequestCarriesTheTraceparentOfItsCallSpan() async throws {
        let secret = "sk-test-secret-1234567"
        let model = try FakeHTTPServer.scripted([
            FakeOpenAI.error(status: 429, message: "Rate limit reached", type: "rate_limit_error", headers: [("Retry-After", "0")]),
            FakeOpenAI.stream(["hel", "lo"]),
            FakeOpenAI.completion("hello there", inputTokens: 21, outputTokens: 3),
        ])
        defer { model.stop() }
        let receiver = try OTLPTraceReceiver()
        defer { receiver.stop() }
        let traces = try #require(try TraceExport.start(
            environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint], redactor: SecretRedactor(secrets: [secret])))
        let tracer = traces.runTracer(traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")

        let openAI = OpenAICompatibleModel(configuration: .init(
            baseURL: model.baseURL + "/v1", apiKey: secret,
            retry: ProviderRetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(1), random: { 0.5 }, sleep: { _ in })
        ))
        let providers = RunEngine.Providers(
            model: openAI, search: FakeSearchProvider { _ in [] }, fetch: FakeFetchProvider(pages: [:]), documents: FakeDocumentLoader(documents: [:])
        ).traced(by: tracer)
        let plan = try PlanLoader().load(bytes: Array(Self.plan.utf8), path: "two_calls.json")
        let sink = RecordingEventSink()
        let outcome = await RunEngine(providers: providers, configuration: .init(defaultModel: "openai:gpt-4o-mini"))
            .run(plan: plan, inputs: [:], sinks: [sink, tracer])
        #expect(outcome.status == .completed)
        await traces.shutdown()

        let spans = receiver.spans
        let calls = spans.filter { $0.string("gen_ai.operation.name") == "chat" }
        #expect(calls.count == sink.events.filter { $0.type == .modelUsage }.count)
        #expect(calls.count == 2)
        let sent = model.requests.map { $0.header("traceparent") ?? "" }
        #expect(sent.count == 3)
        // 00-<trace id>-<span id>-<flags>: the run's trace, the call's span.
        let sentSpans = sent.map { $0.split(separator: "-").map(String.init) }
        #expect(sentSpans.allSatisfy { $0.count == 4 && $0[1] == "4bf92f3577b34da6a3ce929d0e0e4736" })
        #expect(sentSpans[0][2] == sentSpans[1][2], "a provider retry keeps its call span")
        #expect(sentSpans[1][2] != sentSpans[2][2], "each call has its own span")
        let byID = Dictionary(uniqueKeysWithValues: calls.map { ($0.spanID, $0) })
        let first = try #require(byID[sentSpans[1][2]])
        let second = try #require(byID[sentSpans[2][2]])
        #expect(first.eventNames.contains("sluice.step.retrying"))
        #expect(first.string("gen_ai.provider.name") == "openai")
        #expect(first.string("gen_ai.request.model") == "gpt-4o-mini")
        #expect(second.int("gen_ai.usage.input_tokens") == 21)
        #expect(second.int("gen_ai.usage.output_tokens") == 3)
        #expect(second.attributes["gen_ai.response.finish_reasons"] == .array([.string("stop")]))
        let steps = Dictionary(uniqueKeysWithValues: spans.compactMap { span in span.string("sluice.step.id").map { ($0, span) } })
        #expect(first.parentSpanID == steps["draft"]?.spanID)
        #expect(second.parentSpanID == steps["polish"]?.spanID)
        for span in spans {
            for (name, value) in span.attributes { #expect(!value.description.contains(secret), "\(span.name) \(name)") }
        }
    }

    @Test func aSearchRequestCarriesTheTraceparentOfItsRetrievalSpan() async throws {
        let service = try FakeHTTPServer.scripted([
            .text("temporarily unavailable", status: 503, headers: [("Retry-After", "0")]),
            FakeSearch.tavily(FakeHit.samples),
        ])
        defer { service.stop() }
        let receiver = try OTLPTraceReceiver()
        defer { receiver.stop() }
        let traces = try #require(try TraceExport.start(environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint], redactor: .none))
        let tracer = traces.runTracer(traceparent: nil)
        let search = TavilySearch(configuration: WebSearchConfiguration(
            baseURL: service.baseURL, apiKey: "tvly-secret-5678",
            retry: ProviderRetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(1), random: { 0.5 }, sleep: { _ in })
        ))
        let providers = RunEngine.Providers(
            model: SimulatedModel(configuration: .init(chunkDelay: .zero)), search: search,
            fetch: FakeFetchProvider(pages: [:]), documents: FakeDocumentLoader(documents: [:])
        ).traced(by: tracer)
        let plan = try PlanLoader().load(bytes: Array(#"""
            {"name": "one_search", "steps": [{"id": "look", "kind": "search", "query": "chip exports"}],
             "output": {"value": "${size(steps.look.output.results)}"}}
            """#.utf8), path: "one_search.json")
        let outcome = await RunEngine(providers: providers).run(plan: plan, inputs: [:], sinks: [tracer])
        #expect(outcome.status == .completed)
        await traces.shutdown()

        let retrieval = try #require(receiver.spans.first { $0.string("gen_ai.operation.name") == "retrieval" })
        let step = try #require(receiver.spans.first { $0.string("sluice.step.id") == "look" })
        #expect(retrieval.parentSpanID == step.spanID)
        #expect(retrieval.string("gen_ai.provider.name") == "tavily")
        #expect(retrieval.int("sluice.search.results") == 2)
        #expect(retrieval.eventNames.contains("sluice.provider.retrying"))
        #expect(retrieval.string("gen_ai.retrieval.query.text") == nil, "no query text without content capture")
        let sent = service.requests.map { $0.header("traceparent") ?? "" }
        #expect(sent == Array(repeating: "00-\(retrieval.traceID)-\(retrieval.spanID)-01", count: 2), "the retry keeps the span")
    }

    @Test(arguments: [
        [String: String](),
        ["OTEL_SERVICE_NAME": "sluice", "TRACEPARENT": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"],
        ["OTEL_EXPORTER_OTLP_ENDPOINT": ""],
        ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_SDK_DISABLED": "true"],
    ])
    func withoutAnEndpointThereIsNoExport(environment: [String: String]) throws {
        #expect(try TraceExport.start(environment: environment, redactor: .none) == nil)
    }

    @Test(arguments: ["grpc", "http/json"])
    func anotherProtocolIsRefused(name: String) {
        #expect(throws: TraceExportError.self) {
            try TraceExport.start(environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": name], redactor: .none)
        }
    }
}

@Suite struct TraceparentFormatTests {
    @Test(arguments: [
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", true),
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", true),
        ("00-00000000000000000000000000000000-00f067aa0ba902b7-01", false),
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", false),
        ("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", false),
        ("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", false),
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", false),
        ("not a traceparent", false),
    ])
    func recognisesW3CTraceparents(text: String, valid: Bool) {
        #expect(TraceExport.isTraceparent(text) == valid)
    }
}
