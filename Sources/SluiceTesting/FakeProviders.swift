public import SluiceProviders
import Synchronization

/// Search that answers from a closure and records queries.
public final class FakeSearchProvider: SearchProvider {
    public typealias Answer = @Sendable (SearchQuery) async throws -> [SearchResult]
    private let answer: Answer
    private let recorded = Mutex<[SearchQuery]>([])

    public init(answer: @escaping Answer) {
        self.answer = answer
    }

    /// Returns `count` results per query, with urls derived from the query text.
    public convenience init(resultsPerQuery count: Int = 2) {
        self.init { query in
            (1...max(1, count)).map { index in
                SearchResult(
                    title: "\(query.text) #\(index)", url: "https://example.com/\(query.text.count)/\(index)",
                    snippet: "About \(query.text).", published: "2026-11-20", provider: "fake"
                )
            }
        }
    }

    public var queries: [SearchQuery] { recorded.withLock { $0 } }

    public func search(_ query: SearchQuery) async throws -> [SearchResult] {
        recorded.withLock { $0.append(query) }
        try Task.checkCancellation()
        return try await answer(query)
    }
}

/// Fetch from a dictionary of url → page text; other urls fail with `notFound`.
public struct FakeFetchProvider: FetchProvider {
    public var pages: [String: String]

    public init(pages: [String: String]) {
        self.pages = pages
    }

    public func fetch(url: String, maxBytes: Int?) async throws -> FetchedPage {
        try Task.checkCancellation()
        guard let text = pages[url] else { throw ProviderError(.notFound, "no page at \(url)", provider: "fake") }
        return FetchedPage(url: url, title: "Page \(url)", text: text)
    }
}

/// Documents from a dictionary of path → text; other paths fail with `notFound`.
public struct FakeDocumentLoader: DocumentLoader {
    public var documents: [String: String]

    public init(documents: [String: String]) {
        self.documents = documents
    }

    public func load(path: String) async throws -> LoadedDocument {
        try Task.checkCancellation()
        guard let text = documents[path] else { throw ProviderError(.notFound, "no document \(path)", provider: "fake") }
        return LoadedDocument(path: path, text: text)
    }
}
