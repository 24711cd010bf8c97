import SluiceJSON

/// Common settings of the web search services.
public struct WebSearchConfiguration: Sendable {
    /// The service root (`https://api.tavily.com`, …); Sluice appends the API's path.
    public var baseURL: String
    public var apiKey: String?
    public var timeouts: HTTPTimeouts
    public var retry: ProviderRetryPolicy

    public init(baseURL: String, apiKey: String?, timeouts: HTTPTimeouts = HTTPTimeouts(connect: .seconds(10), firstByte: .seconds(30), idle: .seconds(30), total: .seconds(60)), retry: ProviderRetryPolicy = ProviderRetryPolicy()) {
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.timeouts = timeouts
        self.retry = retry
    }

    func caller(_ provider: String, http: HTTPClient) -> JSONServiceCaller {
        JSONServiceCaller(provider: provider, http: http, retry: retry, redactor: SecretRedactor(secrets: apiKey.map { [$0] } ?? []))
    }
}

/// Tavily: `POST {base}/search` with `Authorization: Bearer KEY`; `days` asks for the news
/// topic with that many days back.
public struct TavilySearch: SearchProvider {
    public static let providerName = "tavily"
    public static let defaultBaseURL = "https://api.tavily.com"
    let configuration: WebSearchConfiguration
    let caller: JSONServiceCaller

    public init(configuration: WebSearchConfiguration, http: HTTPClient = .shared) {
        self.configuration = configuration
        caller = configuration.caller(Self.providerName, http: http)
    }

    public func search(_ query: SearchQuery) async throws -> [SearchResult] {
        var body: JSONObject = ["query": .string(query.text), "max_results": .integer(Int64(max(1, min(query.maxResults, 20)))), "search_depth": "basic"]
        if let days = query.days {
            body["topic"] = "news"
            body["days"] = .integer(Int64(max(1, days)))
        }
        let request = HTTPRequest(
            method: .post, url: URLText.url(configuration.baseURL, "/search", []),
            headers: [HTTPHeader("Content-Type", "application/json"), HTTPHeader("Authorization", "Bearer \(configuration.apiKey ?? "")")],
            body: JSONValue.object(body).jsonBytes, timeouts: configuration.timeouts
        )
        let answer = try await caller.call(request, onRetry: query.onRetry, traceparent: query.traceparent)
        return (answer["results"]?.arrayValue ?? []).compactMap { item in
            guard let url = item["url"]?.stringValue else { return nil }
            return SearchResult(
                title: item["title"]?.stringValue ?? url, url: url, snippet: item["content"]?.stringValue ?? "",
                published: item["published_date"]?.stringValue, provider: Self.providerName
            )
        }.prefix(query.maxResults).map { $0 }
    }
}

/// Brave: `GET {base}/res/v1/web/search?q=…&count=…&freshness=pd|pw|pm|py` with
/// `X-Subscription-Token`.
public struct BraveSearch: SearchProvider {
    public static let providerName = "brave"
    public static let defaultBaseURL = "https://api.search.brave.com"
    let configuration: WebSearchConfiguration
    let caller: JSONServiceCaller

    public init(configuration: WebSearchConfiguration, http: HTTPClient = .shared) {
        self.configuration = configuration
        caller = configuration.caller(Self.providerName, http: http)
    }

    static func freshness(days: Int?) -> String? {
        guard let days else { return nil }
        switch days {
        case ...1: return "pd"
        case ...7: return "pw"
        case ...31: return "pm"
        default: return "py"
        }
    }

    public func search(_ query: SearchQuery) async throws -> [SearchResult] {
        var parameters = [("q", query.text), ("count", String(max(1, min(query.maxResults, 20))))]
        if let freshness = Self.freshness(days: query.days) { parameters.append(("freshness", freshness)) }
        let request = HTTPRequest(
            url: URLText.url(configuration.baseURL, "/res/v1/web/search", parameters),
            headers: [HTTPHeader("Accept", "application/json"), HTTPHeader("X-Subscription-Token", configuration.apiKey ?? "")],
            timeouts: configuration.timeouts
        )
        let answer = try await caller.call(request, onRetry: query.onRetry, traceparent: query.traceparent)
        return (answer["web"]?["results"]?.arrayValue ?? []).compactMap { item in
            guard let url = item["url"]?.stringValue else { return nil }
            return SearchResult(
                title: item["title"]?.stringValue ?? url, url: url, snippet: HTMLText.plainText(item["description"]?.stringValue ?? ""),
                published: item["page_age"]?.stringValue ?? item["age"]?.stringValue, provider: Self.providerName
            )
        }.prefix(query.maxResults).map { $0 }
    }
}

/// Google Programmable Search: `GET {base}/customsearch/v1?key=…&cx=…&q=…&num=…&dateRestrict=dN`.
public struct GoogleCustomSearch: SearchProvider {
    public static let providerName = "google"
    public static let defaultBaseURL = "https://www.googleapis.com"
    let configuration: WebSearchConfiguration
    let engineID: String
    let caller: JSONServiceCaller

    public init(configuration: WebSearchConfiguration, engineID: String, http: HTTPClient = .shared) {
        self.configuration = configuration
        self.engineID = engineID
        caller = configuration.caller(Self.providerName, http: http)
    }

    public func search(_ query: SearchQuery) async throws -> [SearchResult] {
        var parameters = [("key", configuration.apiKey ?? ""), ("cx", engineID), ("q", query.text), ("num", String(max(1, min(query.maxResults, 10))))]
        if let days = query.days { parameters.append(("dateRestrict", "d\(max(1, days))")) }
        let request = HTTPRequest(url: URLText.url(configuration.baseURL, "/customsearch/v1", parameters), headers: [HTTPHeader("Accept", "application/json")], timeouts: configuration.timeouts)
        let answer = try await caller.call(request, onRetry: query.onRetry, traceparent: query.traceparent)
        return (answer["items"]?.arrayValue ?? []).compactMap { item in
            guard let url = item["link"]?.stringValue else { return nil }
            let metatags = item["pagemap"]?["metatags"]?[0]
            let published = metatags?["article:published_time"]?.stringValue ?? metatags?["og:updated_time"]?.stringValue
            return SearchResult(
                title: item["title"]?.stringValue ?? url, url: url, snippet: item["snippet"]?.stringValue ?? "",
                published: published, provider: Self.providerName
            )
        }.prefix(query.maxResults).map { $0 }
    }
}

/// SearXNG: `GET {SEARXNG_URL}/search?q=…&format=json&time_range=day|week|month|year`.
public struct SearXNGSearch: SearchProvider {
    public static let providerName = "searxng"
    let configuration: WebSearchConfiguration
    let caller: JSONServiceCaller

    public init(configuration: WebSearchConfiguration, http: HTTPClient = .shared) {
        self.configuration = configuration
        caller = configuration.caller(Self.providerName, http: http)
    }

    public func search(_ query: SearchQuery) async throws -> [SearchResult] {
        var parameters = [("q", query.text), ("format", "json")]
        if let range = query.coarseTimeRange { parameters.append(("time_range", range)) }
        var headers = [HTTPHeader("Accept", "application/json")]
        if let key = configuration.apiKey { headers.append(HTTPHeader("Authorization", "Bearer \(key)")) }
        let request = HTTPRequest(url: URLText.url(configuration.baseURL, "/search", parameters), headers: headers, timeouts: configuration.timeouts)
        let answer = try await caller.call(request, onRetry: query.onRetry, traceparent: query.traceparent)
        return (answer["results"]?.arrayValue ?? []).compactMap { item in
            guard let url = item["url"]?.stringValue else { return nil }
            return SearchResult(
                title: item["title"]?.stringValue ?? url, url: url, snippet: item["content"]?.stringValue ?? "",
                published: item["publishedDate"]?.stringValue, provider: Self.providerName
            )
        }.prefix(query.maxResults).map { $0 }
    }
}
