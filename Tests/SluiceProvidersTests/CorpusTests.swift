import SluiceProviders
import Testing

@Suite struct CorpusTests {
    let corpus: Corpus

    init() throws {
        corpus = try Corpus.load(folder: RepositoryPaths.corpus)
    }

    @Test func theSampleCorpusHasDatedDocumentsWithURLs() {
        #expect(corpus.documents.count >= 10)
        for document in corpus.documents {
            #expect(document.url.hasPrefix("https://"), "\(document.file)")
            #expect(document.date?.count == 10, "\(document.file)")
            #expect(!document.title.isEmpty)
        }
    }

    @Test(arguments: [
        ("startup funding rounds", "03-agent-startup-funding.md"),
        ("browser agents prompt injection", "07-browser-agents-launch.md"),
        ("regulators guidance", "06-agent-regulation-guidance.md"),
    ])
    func searchRanksTheMatchingArticleFirst(query: String, file: String) async throws {
        let results = try await CorpusSearchProvider(corpus: corpus).search(SearchQuery(text: query, maxResults: 3))
        let expected = try #require(corpus.documents.first { $0.file == file })
        #expect(results.first?.url == expected.url)
        #expect(results.allSatisfy { $0.provider == "corpus" })
        #expect(results.count <= 3)
    }

    @Test func daysCountBackFromTheNewestDocument() async throws {
        let results = try await CorpusSearchProvider(corpus: corpus).search(SearchQuery(text: "agents", maxResults: 20, days: 3))
        #expect(!results.isEmpty)
        #expect(results.allSatisfy { ($0.published ?? "") >= "2026-11-17" })
    }

    @Test func aQueryMatchingNothingStillReturnsTheNewest() async throws {
        let results = try await CorpusSearchProvider(corpus: corpus).search(SearchQuery(text: "zzzz qqqq", maxResults: 2))
        #expect(results.map(\.published) == ["2026-11-20", "2026-11-19"])
    }

    /// The index is built at the first search; searches racing to it all get what a provider
    /// used one search at a time gives (the same ranking, the same snippets).
    @Test func concurrentFirstSearchesAgreeWithOneAtATime() async throws {
        let queries = ["startup funding rounds", "browser agents prompt injection", "regulators guidance", "agents", "zzzz qqqq"]
        var expected: [[SearchResult]] = []
        for query in queries {
            expected.append(try await CorpusSearchProvider(corpus: corpus).search(SearchQuery(text: query, maxResults: 5)))
        }
        let shared = CorpusSearchProvider(corpus: corpus)
        let concurrent = try await withThrowingTaskGroup(of: (Int, [SearchResult]).self) { group in
            for _ in 0..<4 {
                for (index, query) in queries.enumerated() {
                    group.addTask { (index, try await shared.search(SearchQuery(text: query, maxResults: 5))) }
                }
            }
            return try await group.reduce(into: [(Int, [SearchResult])]()) { $0.append($1) }
        }
        #expect(concurrent.count == queries.count * 4)
        for (index, results) in concurrent {
            #expect(results.map(\.url) == expected[index].map(\.url))
            #expect(results.map(\.snippet) == expected[index].map(\.snippet))
        }
        #expect(!expected[0].isEmpty)
    }

    @Test func fetchReturnsCorpusDocumentsByURL() async throws {
        let fetch = CorpusFetchProvider(corpus: corpus)
        let first = corpus.documents[0]
        let page = try await fetch.fetch(url: first.url, maxBytes: nil)
        #expect(page.title == first.title)
        #expect(page.text.contains("Model Context Protocol"))
        await #expect(throws: ProviderError.self) { try await fetch.fetch(url: "https://nowhere.example/x", maxBytes: nil) }
    }

    @Test func frontMatterIsOptional() {
        let document = Corpus.parse("# Heading here\n\nBody.", file: "plain.md")
        #expect(document.title == "Heading here")
        #expect(document.url == "corpus://plain.md")
        #expect(document.date == nil)
    }
}
