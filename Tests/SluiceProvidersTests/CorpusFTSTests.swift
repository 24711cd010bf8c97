import Foundation
import Testing

@testable import SluiceProviders

@Suite("Local corpus with SQLite FTS5")
struct CorpusFTSTests {
    let home: TemporaryFolder
    let database: CorpusDatabase

    init() throws {
        home = try TemporaryFolder()
        database = try CorpusDatabase(path: home.path + "/index/corpus.sqlite")
    }

    @Test(arguments: [
        ("startup funding rounds", "03-agent-startup-funding.md"),
        ("browser agents prompt injection", "07-browser-agents-launch.md"),
        ("regulators guidance", "06-agent-regulation-guidance.md"),
    ])
    func ranksTheMatchingArticleFirst(query: String, file: String) async throws {
        let search = CorpusFTSSearch(folder: RepositoryPaths.corpus, database: database)
        let results = try await search.search(SearchQuery(text: query, maxResults: 3))
        let expected = try Corpus.load(folder: RepositoryPaths.corpus).documents.first { $0.file == file }
        #expect(results.first?.url == expected?.url)
        #expect(results.count <= 3)
        #expect(results.allSatisfy { $0.provider == "corpus" })
    }

    @Test func daysCountBackFromTheNewestDocument() async throws {
        let results = try await CorpusFTSSearch(folder: RepositoryPaths.corpus, database: database).search(SearchQuery(text: "agents", maxResults: 20, days: 3))
        #expect(!results.isEmpty)
        #expect(results.allSatisfy { ($0.published ?? "") >= "2026-11-17" })
    }

    @Test func queryTextIsNeverFTSSyntax() async throws {
        let results = try await CorpusFTSSearch(folder: RepositoryPaths.corpus, database: database)
            .search(SearchQuery(text: "agents AND (\"funding* NEAR: -x", maxResults: 2))
        #expect(results.count == 2)
    }

    @Test func indexesIncrementally() async throws {
        let folder = try TemporaryFolder()
        func write(_ name: String, _ text: String) throws {
            try text.write(toFile: folder.path + "/" + name, atomically: true, encoding: .utf8)
        }
        try write("a.md", "---\ntitle: Apples\nurl: https://e.com/a\ndate: 2026-01-01\n---\nApples are red.")
        try write("b.md", "---\ntitle: Bananas\nurl: https://e.com/b\ndate: 2026-01-02\n---\nBananas are yellow.")
        try FileManager.default.createDirectory(atPath: folder.path + "/more", withIntermediateDirectories: true)
        try write("more/c.html", "<html><head><title>x</title></head><body><nav>menu</nav><h1>Cherries</h1><p>Cherries are dark.</p></body></html>")
        #expect(try await database.synchronize(folder: folder.path) == .init(added: 3, updated: 0, removed: 0))
        #expect(try await database.synchronize(folder: folder.path) == .init(added: 0, updated: 0, removed: 0))

        try write("a.md", "---\ntitle: Apples\nurl: https://e.com/a\ndate: 2026-01-03\n---\nApples are green, mostly.")
        try FileManager.default.removeItem(atPath: folder.path + "/b.md")
        #expect(try await database.synchronize(folder: folder.path) == .init(added: 0, updated: 1, removed: 1))

        let search = CorpusFTSSearch(folder: folder.path, database: database)
        #expect(try await search.search(SearchQuery(text: "green")).map(\.url) == ["https://e.com/a"])
        #expect(try await search.search(SearchQuery(text: "red")).allSatisfy { !$0.snippet.contains("red") }, "the old text is gone from the index")
        #expect(try await search.search(SearchQuery(text: "bananas")).contains { $0.url == "https://e.com/b" } == false)
        #expect(try await search.search(SearchQuery(text: "cherries")).first?.url == "corpus://more/c.html")
        #expect(try await search.search(SearchQuery(text: "menu")).first?.url != "corpus://more/c.html", "navigation is not indexed")
    }

    @Test func aMissingFolderIsNamed() async throws {
        let error = await #expect(throws: ProviderError.self) {
            try await CorpusFTSSearch(folder: home.path + "/nowhere", database: database).search(SearchQuery(text: "x"))
        }
        #expect(error?.code == .notFound)
        #expect(error?.message.contains("nowhere") == true)
    }

    @Test func theFactoryIndexesUnderSLUICE_HOME() async throws {
        let factory = ProviderFactory(configuration: ProviderConfiguration(values: ["SLUICE_CORPUS": RepositoryPaths.corpus, "SLUICE_HOME": home.path + "/home"]))
        let results = try await factory.searchProvider().search(SearchQuery(text: "funding", maxResults: 1))
        #expect(results.count == 1)
        #expect(FileManager.default.fileExists(atPath: home.path + "/home/corpus.sqlite"))
    }
}
