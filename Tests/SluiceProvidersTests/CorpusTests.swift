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
