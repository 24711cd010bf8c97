/// One search: a query and how many results from how far back.
///
/// Equal (and hashed, e.g. as a response-cache key) by what is asked: text, count and days;
/// not by who is told about its retries and cache use. Observers travel with the query rather
/// than in task-locals: pushing a task-local around provider calls crashed release builds.
public struct SearchQuery: Sendable, Hashable {
    public var text: String
    public var maxResults: Int
    /// Only results published in the last `days` days; nil for any date.
    public var days: Int?
    /// Told about each retry the provider makes (the engine reports them as `step.retrying`).
    public var onRetry: (@Sendable (ProviderRetryInfo) -> Void)?
    /// Told whether a response cache answered the query (the step's `cache` counts).
    public var cacheTally: SearchCacheTally?
    /// Sent as the W3C `traceparent` header by services reached over HTTP (the query's span in
    /// a traced run); like the observers, not part of what is asked.
    public var traceparent: String?

    public init(
        text: String, maxResults: Int = 5, days: Int? = nil,
        onRetry: (@Sendable (ProviderRetryInfo) -> Void)? = nil, cacheTally: SearchCacheTally? = nil
    ) {
        self.text = text
        self.maxResults = maxResults
        self.days = days
        self.onRetry = onRetry
        self.cacheTally = cacheTally
    }

    public static func == (lhs: SearchQuery, rhs: SearchQuery) -> Bool {
        lhs.text == rhs.text && lhs.maxResults == rhs.maxResults && lhs.days == rhs.days
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(text)
        hasher.combine(maxResults)
        hasher.combine(days)
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
