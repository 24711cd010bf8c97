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
    }

    @Test func readsTextAndStripsHTML() async throws {
        let loader = LocalDocumentLoader(root: root)
        #expect(try await loader.load(path: "a.txt").text == "plain text")
        #expect(try await loader.load(path: "sub/page.html").text == "T\n\nHello & welcome\n\nBye")
        #expect(try await loader.load(path: "inner.txt").text == "plain text")
        #expect(try await loader.load(path: root + "/a.txt").text == "plain text")
    }

    @Test(arguments: ["../outside/secret.txt", "sub/../../outside/secret.txt", "link.txt"])
    func refusesPathsLeavingTheRoot(path: String) async {
        await #expect(throws: ProviderError.self) { try await LocalDocumentLoader(root: root).load(path: path) }
        do {
            _ = try await LocalDocumentLoader(root: root).load(path: path)
        } catch let error as ProviderError {
            #expect(error.code == .refused)
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
