/// One search: a query and how many results from how far back.
public struct SearchQuery: Sendable, Hashable {
    public var text: String
    public var maxResults: Int
    /// Only results published in the last `days` days; nil for any date.
    public var days: Int?

    public init(text: String, maxResults: Int = 5, days: Int? = nil) {
        self.text = text
        self.maxResults = maxResults
        self.days = days
    }
}

/// One search hit.
public struct SearchResult: Sendable, Hashable {
    public var title: String
    public var url: String
    public var snippet: String
    /// The publication date as the source gave it (ISO 8601 date when known).
    public var published: String?
    /// Which provider found it (`tavily`, `brave`, `corpus`, …).
    public var provider: String

    public init(title: String, url: String, snippet: String, published: String?, provider: String) {
        self.title = title
        self.url = url
        self.snippet = snippet
        self.published = published
        self.provider = provider
    }
}

/// A web or local search service.
///
/// #### Errors
/// ``ProviderError``; `CancellationError` when the caller's task is cancelled.
public protocol SearchProvider: Sendable {
    func search(_ query: SearchQuery) async throws -> [SearchResult]
}
