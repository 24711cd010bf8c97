import Foundation
import SluiceProviders
import Testing

@Suite struct LocalDocumentLoaderTests {
    let root: String
    let outside: String

    init() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-docs-\(UUID().uuidString)").path
        root = base + "/root"
        outside = base + "/outside"
        try FileManager.default.createDirectory(atPath: root + "/sub", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try "plain text".write(toFile: root + "/a.txt", atomically: true, encoding: .utf8)
        try "<html><head><style>p{}</style><title>T</title></head><body><p>Hello &amp; welcome</p><script>x()</script><p>Bye</p></body></html>"
            .write(toFile: root + "/sub/page.html", atomically: true, encoding: .utf8)
        try "secret".write(toFile: outside + "/secret.txt", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: root + "/link.txt", withDestinationPath: outside + "/secret.txt")
        try FileManager.default.createSymbolicLink(atPath: root + "/inner.txt", withDestinationPath: root + "/a.txt")
        try FileManager.default.createDirectory(atPath: root + "/.hidden", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/home", withIntermediateDirectories: true)
        try "KEY=sk-1".write(toFile: root + "/.env", atomically: true, encoding: .utf8)
        try "hidden".write(toFile: root + "/.hidden/notes.txt", atomically: true, encoding: .utf8)
        try "run data".write(toFile: root + "/home/runs.txt", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: root + "/visible.txt", withDestinationPath: root + "/.hidden/notes.txt")
    }

    @Test func readsTextAndStripsHTML() async throws {
        let loader = LocalDocumentLoader(root: root)
        #expect(try await loader.load(path: "a.txt").text == "plain text")
        #expect(try await loader.load(path: "sub/page.html").text == "T\n\nHello & welcome\n\nBye")
        #expect(try await loader.load(path: "inner.txt").text == "plain text")
        #expect(try await loader.load(path: root + "/a.txt").text == "plain text")
    }

    /// Outside the root, hidden, in the Sluice home, with a NUL, or missing: one answer, which
    /// names neither the root nor the real path.
    @Test(arguments: [
        "../outside/secret.txt", "sub/../../outside/secret.txt", "link.txt", ".env", "./.env", ".hidden/notes.txt",
        "visible.txt", "home/runs.txt", "a\u{0}.txt", "missing.md",
    ])
    func refusesWithOneAnswer(path: String) async {
        let loader = LocalDocumentLoader(root: root, excluding: [root + "/home"])
        do {
            _ = try await loader.load(path: path)
            Issue.record("\(path) was read")
        } catch let error as ProviderError {
            #expect(error.code == .notFound)
            #expect(error.message == "no document '\(path)' in the document folder (documents are files inside it, never hidden files or folders)")
            #expect(!error.message.contains(root))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func withoutARootNoLocalFileIsRead() async {
        do {
            _ = try await LocalDocumentLoader(root: nil).load(path: "a.txt")
            Issue.record("read without a root")
        } catch let error as ProviderError {
            #expect(error.code == .refused)
            #expect(error.message.contains("--documents DIR"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func absolutePathsOutsideTheRootAreRefused() async {
        await #expect(throws: ProviderError.self) { try await LocalDocumentLoader(root: root).load(path: outside + "/secret.txt") }
    }

    @Test func missingFilesAndURLsSayWhy() async {
        do {
            _ = try await LocalDocumentLoader(root: root).load(path: "missing.md")
            Issue.record("expected an error")
        } catch let error as ProviderError {
            #expect(error.code == .notFound)
            #expect(error.message.contains("missing.md"))
        } catch {
            Issue.record("unexpected \(error)")
        }
        await #expect(throws: ProviderError.self) { try await LocalDocumentLoader(root: root).load(path: "https://example.com/x") }
    }
}
