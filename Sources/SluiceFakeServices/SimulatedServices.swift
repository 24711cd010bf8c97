import Foundation
import SluiceJSON
import SluiceProviders
import Synchronization

/// Every outside service Sluice talks to, faked on 127.0.0.1 and answering any request
/// sensibly, so a whole plan can run "online" without the network: OpenAI and Anthropic
/// (answers from the offline ``SimulatedModel``, streamed in the real wire formats with usage),
/// Tavily, Brave, Google and SearXNG (hits derived from the query, pointing at the fake web),
/// and a web server whose articles fetch can read.
///
/// ```swift
/// let services = try SimulatedServices()
/// defer { services.stop() }
/// let factory = ProviderFactory(configuration: ProviderConfiguration(values: services.environment))
/// ```
public final class SimulatedServices: Sendable {
    public let models: FakeHTTPServer
    public let search: FakeHTTPServer
    public let web: FakeHTTPServer
    /// How the model services misbehave on request, and what they served (calls and tokens).
    public let modelBehaviour: ModelBehaviour
    private let searches = SearchCounter()

    /// How fast the fake models answer: `firstToken` before the response starts, then
    /// `perToken` for each streamed token (pieces are about six tokens).
    public struct Timing: Sendable {
        public var firstToken: Duration
        public var perToken: Duration

        public init(firstToken: Duration = .zero, perToken: Duration = .zero) {
            self.firstToken = firstToken
            self.perToken = perToken
        }
    }

    /// - Parameters:
    ///   - streaming: false to answer model calls with whole JSON responses, as a service (or
    ///     gateway) that ignores `stream: true` does.
    ///   - timing: the model services' latency (none by default; the wire benchmark sets it).
    public init(streaming: Bool = true, timing: Timing = Timing()) throws {
        let web = try FakeHTTPServer { request in SimulatedServices.article(request) }
        let webBase = web.baseURL
        self.web = web
        let behaviour = ModelBehaviour(streaming: streaming)
        modelBehaviour = behaviour
        models = try FakeHTTPServer { request in
            var response = behaviour.count(SimulatedServices.model(request, behaviour: behaviour))
            response.delayBeforeHead = timing.firstToken
            if timing.perToken > .zero {
                // Each content piece is about six tokens: a pause before every part after the first.
                response.parts = response.parts.enumerated().flatMap { index, part -> [FakeResponse.Part] in
                    index == 0 ? [part] : [.pause(timing.perToken * 6), part]
                }
            }
            return response
        }
        let searches = self.searches
        search = try FakeHTTPServer { request in
            searches.add()
            return SimulatedServices.search(request, webBase: webBase)
        }
    }

    /// Search requests served so far.
    public var searchCalls: Int { searches.count }

    private final class SearchCounter: Sendable {
        private let state = Mutex(0)
        func add() { state.withLock { $0 += 1 } }
        var count: Int { state.withLock { $0 } }
    }

    public func stop() {
        models.stop()
        search.stop()
        web.stop()
    }

    /// The configuration that points every provider at these fakes (fetch may read loopback).
    public var environment: [String: String] {
        [
            "OPENAI_API_KEY": "sk-fake-openai", "OPENAI_BASE_URL": models.baseURL + "/v1",
            "ANTHROPIC_API_KEY": "sk-fake-anthropic", "ANTHROPIC_BASE_URL": models.baseURL,
            "TAVILY_API_KEY": "tvly-fake", "TAVILY_BASE_URL": search.baseURL,
            "BRAVE_API_KEY": "brave-fake", "BRAVE_BASE_URL": search.baseURL,
            "GOOGLE_API_KEY": "google-fake", "GOOGLE_CSE_ID": "cse-fake", "GOOGLE_CSE_BASE_URL": search.baseURL,
            "SEARXNG_URL": search.baseURL,
            "SLUICE_MODEL": "openai:gpt-4o-mini", "SLUICE_SEARCH": "tavily",
            "SLUICE_FETCH_ALLOW_PRIVATE": "1",
        ]
    }

    // MARK: Models

    static func model(_ request: FakeRequest, behaviour: ModelBehaviour) -> (FakeResponse, served: (input: Int, output: Int)?) {
        guard request.method == "POST", let body = request.json else {
            return (FakeOpenAI.error(status: 404, message: "no route \(request.method) \(request.path)"), nil)
        }
        let anthropic: Bool
        let system: String?
        let schema: JSONValue?
        let messages = body["messages"]?.arrayValue ?? []
        switch request.path {
        case "/v1/chat/completions":
            anthropic = false
            system = messages.first { $0["role"] == "system" }?["content"]?.stringValue
            schema = body["response_format"]?["json_schema"]?["schema"]
        case "/v1/messages":
            anthropic = true
            system = body["system"]?.stringValue
            schema = body["tools"]?[0]?["input_schema"]
        default:
            return (FakeOpenAI.error(status: 404, message: "no route \(request.path)"), nil)
        }
        let prompt = messages.last { $0["role"] == "user" }?["content"]?.stringValue ?? ""
        let (text, usage) = answer(model: body["model"]?.stringValue ?? "fake", system: system, prompt: prompt, schema: schema)
        let misbehaviour = behaviour.take(prompt: messages.compactMap { $0["content"]?.stringValue }.joined(separator: "\n"))
        let shaped = misbehaviour.map { $0.apply(to: text, schema: schema) } ?? (text: text, cutOff: false)
        let input = usage.inputTokens
        let refusal = misbehaviour == .refusal ? Misbehaviour.refusalText : nil
        let output = misbehaviour == nil ? usage.outputTokens : max(1, ((refusal ?? shaped.text).count + 3) / 4)
        let stop = refusal != nil ? "refusal" : shaped.cutOff ? "max_tokens" : schema == nil ? "end_turn" : "tool_use"
        let response =
            switch (anthropic, behaviour.streaming) {
            case (false, true):
                FakeOpenAI.stream(pieces(of: shaped.text), inputTokens: input, outputTokens: output, finish: shaped.cutOff ? "length" : "stop", refusal: refusal)
            case (false, false):
                FakeOpenAI.completion(shaped.text, inputTokens: input, outputTokens: output, finish: shaped.cutOff ? "length" : "stop", refusal: refusal)
            case (true, true):
                schema == nil
                    ? FakeAnthropic.textStream(pieces(of: shaped.text), inputTokens: input, outputTokens: output, stopReason: stop)
                    : FakeAnthropic.toolStream(pieces(of: shaped.text), inputTokens: input, outputTokens: output, stopReason: stop)
            case (true, false):
                FakeAnthropic.message(shaped.text, tool: schema != nil, inputTokens: input, outputTokens: output, stopReason: stop)
            }
        return (response, (input, output))
    }

    /// The simulated model's answer, computed on this server thread (never a pool thread).
    private static func answer(model: String, system: String?, prompt: String, schema: JSONValue?) -> (String, ModelUsage) {
        let isJudge = schema?["properties"]?["scores"] != nil && schema?["properties"]?["feedback"] != nil
        let purpose: ModelRequest.Purpose = schema == nil ? .text : isJudge ? .judge : .structured
        let request = ModelRequest(
            model: ModelID(provider: "fake", name: model), system: system, prompt: prompt, schema: schema, stream: false,
            metadata: .init(purpose: purpose)
        )
        let result = Mutex<(String, ModelUsage)?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            do {
                let response = try await SimulatedModel(configuration: .init(chunkDelay: .zero)).generate(request) { _ in }
                result.withLock { $0 = (response.text, response.usage) }
            } catch {
                result.withLock { $0 = ("simulated model failed: \(error)", ModelUsage(provider: "fake", model: model, inputTokens: 0, outputTokens: 0)) }
            }
            done.signal()
        }
        done.wait()
        return result.withLock { $0 } ?? ("", ModelUsage(provider: "fake", model: model, inputTokens: 0, outputTokens: 0))
    }

    /// Splits `text` into stream pieces of about 24 characters.
    static func pieces(of text: String) -> [String] {
        var pieces: [String] = []
        var current = ""
        for character in text {
            current.append(character)
            if current.count >= 24 {
                pieces.append(current)
                current = ""
            }
        }
        if !current.isEmpty { pieces.append(current) }
        return pieces
    }

    // MARK: Search and web

    /// `count` hits (as many as asked, up to 10; 3 when the request says nothing), each with a
    /// snippet of realistic length (~60 words), as real search services answer.
    static func hits(for query: String, webBase: String, count: Int = 3) -> [FakeHit] {
        let slug = query.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }.reduce("") { $0 + String($1) }
        return (1...max(1, min(count, 10))).map { index in
            FakeHit(
                title: "\(query) — report \(index)", url: "\(webBase)/articles/\(slug.prefix(40))-\(index)",
                snippet: "Coverage of \(query), part \(index). Analysts followed the story closely this week, citing new product "
                    + "launches, funding rounds and partnerships; three companies announced agent platforms, one acquisition "
                    + "closed on Tuesday, and regulators published draft guidance that several firms said they would review.",
                published: "2026-11-\(10 + index)"
            )
        }
    }

    static func search(_ request: FakeRequest, webBase: String) -> FakeResponse {
        switch (request.method, request.path) {
        case ("POST", "/search"):
            let count = request.json?["max_results"]?.integerValue.map { Int($0) } ?? 3
            return FakeSearch.tavily(hits(for: request.json?["query"]?.stringValue ?? "news", webBase: webBase, count: count))
        case ("GET", "/res/v1/web/search"):
            return FakeSearch.brave(hits(for: request.query["q"] ?? "news", webBase: webBase))
        case ("GET", "/customsearch/v1"):
            return FakeSearch.google(hits(for: request.query["q"] ?? "news", webBase: webBase))
        case ("GET", "/search"):
            return FakeSearch.searxng(hits(for: request.query["q"] ?? "news", webBase: webBase))
        default:
            return .text("no route", status: 404)
        }
    }

    static func article(_ request: FakeRequest) -> FakeResponse {
        guard request.path.hasPrefix("/articles/") else { return .text("not found", status: 404) }
        let topic = request.path.dropFirst("/articles/".count).replacingOccurrences(of: "-", with: " ")
        return .text(
            """
            <html><head><title>\(topic)</title><script>track()</script></head><body>
            <nav><a href="/">Home</a></nav>
            <article><h1>\(topic)</h1>
            <p>Analysts followed \(topic) closely this week, citing new launches and funding.</p>
            <p>Three companies announced products; one acquisition closed on Tuesday.</p>
            <ul><li>Launches: 3</li><li>Funding rounds: 2</li></ul></article>
            <footer>© Example News</footer></body></html>
            """,
            contentType: "text/html; charset=utf-8"
        )
    }
}
