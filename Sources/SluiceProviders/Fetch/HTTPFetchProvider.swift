import Foundation

/// Fetches web pages over ``HTTPClient`` and turns them into readable text.
///
/// Only `http`/`https`; redirects are followed (up to 5). Every connection, redirects included,
/// is checked against the address policy on the address it really goes to, so by default a
/// plan cannot make Sluice read `http://169.254.169.254/` or a service on the loopback. HTML is
/// reduced to headings, paragraphs, lists and tables; `text/*` and JSON are kept as they are;
/// anything else is refused by content type.
///
/// #### Errors
/// ``ProviderError``: `invalidRequest` (not an http(s) URL), `refused` (a blocked address),
/// `unsupported` (content type), `notFound` (404), `invalidResponse` (larger than the
/// download cap), `timeout`/`transient` (after retries); `CancellationError`.
public struct HTTPFetchProvider: FetchProvider {
    public static let providerName = "fetch"

    public struct Configuration: Sendable {
        public var addressPolicy: AddressPolicy
        /// Bytes downloaded at most; a larger page fails (before the text cap applies).
        public var maxDownloadBytes: Int
        /// Bytes of text kept when the caller gives no `maxBytes`.
        public var defaultMaxTextBytes: Int
        public var timeouts: HTTPTimeouts
        public var retry: ProviderRetryPolicy

        public init(
            addressPolicy: AddressPolicy = .publicOnly, maxDownloadBytes: Int = 5 << 20, defaultMaxTextBytes: Int = 200_000,
            timeouts: HTTPTimeouts = HTTPTimeouts(connect: .seconds(10), firstByte: .seconds(20), idle: .seconds(20), total: .seconds(45)),
            retry: ProviderRetryPolicy = ProviderRetryPolicy(maxAttempts: 2)
        ) {
            self.addressPolicy = addressPolicy
            self.maxDownloadBytes = maxDownloadBytes
            self.defaultMaxTextBytes = defaultMaxTextBytes
            self.timeouts = timeouts
            self.retry = retry
        }
    }

    public let configuration: Configuration
    private let http: HTTPClient

    public init(configuration: Configuration = Configuration(), http: HTTPClient = .shared) {
        self.configuration = configuration
        self.http = http
    }

    public func fetch(url: String, maxBytes: Int?) async throws -> FetchedPage {
        try await fetch(url: url, maxBytes: maxBytes, onRetry: nil)
    }

    public func fetch(url: String, maxBytes: Int?, onRetry: (@Sendable (ProviderRetryInfo) -> Void)?) async throws -> FetchedPage {
        let lowered = url.lowercased()
        guard lowered.hasPrefix("http://") || lowered.hasPrefix("https://") else {
            throw ProviderError(.invalidRequest, "'\(url)' is not an http(s) URL", provider: Self.providerName)
        }
        let request = HTTPRequest(
            url: url,
            headers: [HTTPHeader("Accept", "text/html,application/xhtml+xml,text/plain;q=0.9,application/json;q=0.8,*/*;q=0.1")],
            timeouts: configuration.timeouts, followRedirects: true, maxResponseBytes: configuration.maxDownloadBytes,
            addressPolicy: configuration.addressPolicy
        )
        let response: HTTPResponse = try await configuration.retry.run(provider: Self.providerName, observer: onRetry) {
            let response: HTTPResponse
            do {
                response = try await http.send(request)
            } catch let error as HTTPClientError {
                throw ProviderError.from(error, provider: Self.providerName, redactor: .none)
            }
            guard response.head.isSuccess else {
                throw ProviderError.from(status: response.status, head: response.head, body: [], provider: Self.providerName, redactor: .none)
            }
            return response
        }
        let contentType = (response.head.value(for: "content-type") ?? "text/html").lowercased()
        let body = String(decoding: response.body, as: UTF8.self)
        var page: FetchedPage
        if contentType.contains("html") {
            let (title, text) = ReadableText.extract(body)
            page = FetchedPage(url: url, title: title.isEmpty ? url : title, text: text)
        } else if contentType.hasPrefix("text/") || contentType.contains("json") {
            page = FetchedPage(url: url, title: url, text: body)
        } else {
            let kind = contentType.split(separator: ";").first.map(String.init) ?? contentType
            throw ProviderError(.unsupported, "'\(url)' is \(kind), not a web page or text", provider: Self.providerName)
        }
        let limit = maxBytes ?? configuration.defaultMaxTextBytes
        if page.text.utf8.count > limit {
            // Cut on a character boundary: decoding a byte prefix drops a split last character.
            page.text = String(decoding: page.text.utf8.prefix(limit), as: UTF8.self)
            if page.text.last == "\u{FFFD}" { page.text.removeLast() }
        }
        return page
    }
}
