import SluiceFakeServices
import SluiceJSON
import Testing

@testable import SluiceProviders

@Suite("Search providers against loopback fakes")
struct WebSearchTests {
    let recorder = CallRecorder()

    func configuration(_ server: FakeHTTPServer, key: String? = "key-abcdef") -> WebSearchConfiguration {
        WebSearchConfiguration(baseURL: server.baseURL, apiKey: key, retry: recorder.retryPolicy)
    }

    let query = SearchQuery(text: "chip exports & ports", maxResults: 5, days: 7)

    @Test func tavily() async throws {
        let server = try FakeHTTPServer.scripted([FakeSearch.tavily(FakeHit.samples)])
        defer { server.stop() }
        let results = try await TavilySearch(configuration: configuration(server)).search(query)
        #expect(results == [
            SearchResult(title: "Chip exports rise", url: "https://news.example.com/chips", snippet: "Exports rose 12% in October.", published: "2026-11-18", provider: "tavily"),
            SearchResult(title: "Port volumes", url: "https://trade.example.org/ports?id=7", snippet: "Container volumes hit a record.", published: "2026-11-17", provider: "tavily"),
        ])
        let sent = try #require(server.requests.first)
        #expect(sent.method == "POST")
        #expect(sent.path == "/search")
        #expect(sent.header("authorization") == "Bearer key-abcdef")
        let body = try #require(sent.json)
        #expect(body["query"] == "chip exports & ports")
        #expect(body["max_results"] == 5)
        #expect(body["topic"] == "news")
        #expect(body["days"] == 7)
    }

    @Test func brave() async throws {
        let server = try FakeHTTPServer.scripted([FakeSearch.brave(FakeHit.samples)])
        defer { server.stop() }
        let results = try await BraveSearch(configuration: configuration(server)).search(query)
        #expect(results.map(\.url) == FakeHit.samples.map(\.url))
        #expect(results.first?.snippet == "Exports rose 12% in October.")
        #expect(results.first?.published == "2026-11-18T08:00:00")
        #expect(results.first?.provider == "brave")
        let sent = try #require(server.requests.first)
        #expect(sent.method == "GET")
        #expect(sent.path == "/res/v1/web/search")
        #expect(sent.header("x-subscription-token") == "key-abcdef")
        #expect(sent.query == ["q": "chip exports & ports", "count": "5", "freshness": "pw"])
    }

    @Test(arguments: [(1, "pd"), (7, "pw"), (8, "pm"), (31, "pm"), (90, "py")])
    func braveFreshness(days: Int, expected: String) {
        #expect(BraveSearch.freshness(days: days) == expected)
    }

    @Test func google() async throws {
        let server = try FakeHTTPServer.scripted([FakeSearch.google(FakeHit.samples)])
        defer { server.stop() }
        let results = try await GoogleCustomSearch(configuration: configuration(server), engineID: "cx-123").search(query)
        #expect(results.map(\.title) == FakeHit.samples.map(\.title))
        #expect(results.first?.published == "2026-11-18")
        let sent = try #require(server.requests.first)
        #expect(sent.method == "GET")
        #expect(sent.path == "/customsearch/v1")
        #expect(sent.query == ["key": "key-abcdef", "cx": "cx-123", "q": "chip exports & ports", "num": "5", "dateRestrict": "d7"])
    }

    @Test func searxng() async throws {
        let server = try FakeHTTPServer.scripted([FakeSearch.searxng(FakeHit.samples)])
        defer { server.stop() }
        let results = try await SearXNGSearch(configuration: configuration(server, key: nil)).search(SearchQuery(text: "ports", maxResults: 1, days: 30))
        #expect(results.map(\.url) == ["https://news.example.com/chips"])
        let sent = try #require(server.requests.first)
        #expect(sent.path == "/search")
        #expect(sent.query == ["q": "ports", "format": "json", "time_range": "month"])
        #expect(sent.header("authorization") == nil)
    }

    @Test func noDaysMeansNoRecencyFilter() async throws {
        let server = try FakeHTTPServer { request in
            request.path == "/search" && request.method == "POST" ? FakeSearch.tavily([]) : FakeSearch.brave([])
        }
        defer { server.stop() }
        let plain = SearchQuery(text: "x")
        _ = try await TavilySearch(configuration: configuration(server)).search(plain)
        _ = try await BraveSearch(configuration: configuration(server)).search(plain)
        #expect(server.requests[0].json?["topic"] == nil)
        #expect(server.requests[0].json?["days"] == nil)
        #expect(server.requests[1].query["freshness"] == nil)
    }

    @Test func keysNeverAppearInErrors() async throws {
        let server = try FakeHTTPServer.scripted([.text("bad key key-abcdef for /customsearch/v1?key=key-abcdef", status: 403)])
        defer { server.stop() }
        let error = await #expect(throws: ProviderError.self) {
            try await GoogleCustomSearch(configuration: configuration(server), engineID: "cx").search(query)
        }
        #expect(error?.code == .unauthorized)
        #expect(error?.message.contains("key-abcdef") == false)
    }

    @Test func retriesA429ThenFallsBackToTheNextProvider() async throws {
        let failing = try FakeHTTPServer.scripted([.text("slow down", status: 429, headers: [("Retry-After", "2")])])
        defer { failing.stop() }
        let working = try FakeHTTPServer.scripted([FakeSearch.searxng(FakeHit.samples)])
        defer { working.stop() }
        let search = FallbackSearch([TavilySearch(configuration: configuration(failing)), SearXNGSearch(configuration: configuration(working))])
        var observed = query
        observed.onRetry = { [recorder] in recorder.retry($0) }
        let results = try await search.search(observed)
        #expect(results.first?.provider == "searxng")
        #expect(failing.requests.count == 3)
        #expect(recorder.sleeps == [.seconds(2), .seconds(2)])
        #expect(recorder.retries.map(\.provider) == ["tavily", "tavily"])
    }

    @Test func deduplicatesByURLAcrossQueries() {
        var deduplicator = SearchResultDeduplicator()
        let first = deduplicator.add([
            SearchResult(title: "a", url: "https://www.example.com/a/?utm_source=x#top", snippet: "", published: nil, provider: "tavily"),
            SearchResult(title: "b", url: "https://example.com/b", snippet: "", published: nil, provider: "tavily"),
        ])
        let second = deduplicator.add([
            SearchResult(title: "a again", url: "http://example.com/a", snippet: "", published: nil, provider: "brave"),
            SearchResult(title: "c", url: "https://example.com/c?id=1", snippet: "", published: nil, provider: "brave"),
            SearchResult(title: "c other", url: "https://example.com/c?id=2", snippet: "", published: nil, provider: "brave"),
        ])
        #expect(first.map(\.title) == ["a", "b"])
        #expect(second.map(\.title) == ["c", "c other"])
    }
}
