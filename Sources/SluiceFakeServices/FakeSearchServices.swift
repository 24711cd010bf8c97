import SluiceJSON

/// One hit the fake search services return, in every service's own format.
public struct FakeHit: Sendable {
    public var title: String
    public var url: String
    public var snippet: String
    public var published: String

    public init(title: String, url: String, snippet: String, published: String) {
        self.title = title
        self.url = url
        self.snippet = snippet
        self.published = published
    }

    public static let samples = [
        FakeHit(title: "Chip exports rise", url: "https://news.example.com/chips", snippet: "Exports rose 12% in October.", published: "2026-11-18"),
        FakeHit(title: "Port volumes", url: "https://trade.example.org/ports?id=7", snippet: "Container volumes hit a record.", published: "2026-11-17"),
    ]
}

/// Answers in the formats of the real search APIs.
public enum FakeSearch {
    /// Tavily `POST /search`.
    public static func tavily(_ hits: [FakeHit]) -> FakeResponse {
        .json([
            "query": "q", "answer": .null, "images": [], "response_time": 0.4,
            "results": .array(hits.map { ["title": .string($0.title), "url": .string($0.url), "content": .string($0.snippet), "score": 0.9, "published_date": .string($0.published), "raw_content": .null] }),
        ])
    }

    /// Brave `GET /res/v1/web/search`.
    public static func brave(_ hits: [FakeHit]) -> FakeResponse {
        .json([
            "type": "search", "query": ["original": "q"],
            "web": ["type": "search", "results": .array(hits.map { ["title": .string($0.title), "url": .string($0.url), "description": .string("<strong>\($0.snippet)</strong>"), "page_age": .string($0.published + "T08:00:00"), "age": "2 days ago"] })],
        ])
    }

    /// Google Custom Search `GET /customsearch/v1`.
    public static func google(_ hits: [FakeHit]) -> FakeResponse {
        .json([
            "kind": "customsearch#search",
            "items": .array(hits.map { ["kind": "customsearch#result", "title": .string($0.title), "link": .string($0.url), "snippet": .string($0.snippet), "pagemap": ["metatags": [["article:published_time": .string($0.published)]]]] }),
        ])
    }

    /// SearXNG `GET /search?format=json`.
    public static func searxng(_ hits: [FakeHit]) -> FakeResponse {
        .json([
            "query": "q", "number_of_results": .integer(Int64(hits.count)),
            "results": .array(hits.map { ["title": .string($0.title), "url": .string($0.url), "content": .string($0.snippet), "publishedDate": .string($0.published + "T00:00:00"), "engine": "duckduckgo"] }),
        ])
    }
}
