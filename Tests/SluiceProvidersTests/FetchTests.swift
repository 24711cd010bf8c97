import Foundation
import SluiceFakeServices
import Testing

@testable import SluiceProviders

@Suite("Fetch and documents")
struct FetchTests {
    static let page = """
        <!doctype html><html><head><title>Chip exports &amp; ports</title><style>body { color: red }</style>
        <script>var tracking = "<p>not text</p>";</script></head>
        <body><nav><a href="/">Home</a> <a href="/news">News</a></nav>
        <header><div>Site banner</div></header>
        <main><h1>Exports rise</h1><p>Exports rose <b>12%</b> in October.</p><!-- an ad -->
        <ul><li>Chips</li><li>Ports</li></ul>
        <table><tr><th>Month</th><th>Change</th></tr><tr><td>Oct</td><td>+12%</td></tr></table>
        </main><footer>Copyright</footer></body></html>
        """

    let loopbackAllowed = HTTPFetchProvider(configuration: .init(addressPolicy: AddressPolicy(allowLoopback: true, allowPrivate: false), retry: .none))

    @Test func turnsHTMLIntoReadableText() async throws {
        let server = try FakeHTTPServer { _ in .text(Self.page, contentType: "text/html; charset=utf-8") }
        defer { server.stop() }
        let page = try await loopbackAllowed.fetch(url: server.baseURL + "/article", maxBytes: nil)
        #expect(page.title == "Chip exports & ports")
        #expect(page.text == """
            # Exports rise

            Exports rose 12% in October.

            - Chips
            - Ports

            Month | Change
            Oct | +12%
            """)
    }

    @Test func refusesLoopbackByDefault() async throws {
        let server = try FakeHTTPServer { _ in .text("internal", contentType: "text/plain") }
        defer { server.stop() }
        let error = await #expect(throws: ProviderError.self) {
            try await HTTPFetchProvider().fetch(url: server.baseURL + "/", maxBytes: nil)
        }
        #expect(error?.code == .refused)
        #expect(server.requests.isEmpty)
    }

    @Test func followsRedirects() async throws {
        let server = try FakeHTTPServer { request in
            request.path == "/old" ? FakeResponse(status: 301, headers: [("Location", "/new")]) : .text("moved here", contentType: "text/plain")
        }
        defer { server.stop() }
        let page = try await loopbackAllowed.fetch(url: server.baseURL + "/old", maxBytes: nil)
        #expect(page.text == "moved here")
    }

    @Test func refusesContentThatIsNotAPage() async throws {
        let server = try FakeHTTPServer { _ in FakeResponse(headers: [("Content-Type", "image/png")], parts: [.bytes([0x89, 0x50])]) }
        defer { server.stop() }
        let error = await #expect(throws: ProviderError.self) { try await loopbackAllowed.fetch(url: server.baseURL + "/x.png", maxBytes: nil) }
        #expect(error?.code == .unsupported)
        #expect(error?.message.contains("image/png") == true)
    }

    @Test func aMissingPageIsNotFound() async throws {
        let server = try FakeHTTPServer { _ in .text("nope", status: 404) }
        defer { server.stop() }
        let error = await #expect(throws: ProviderError.self) { try await loopbackAllowed.fetch(url: server.baseURL + "/gone", maxBytes: nil) }
        #expect(error?.code == .notFound)
    }

    @Test func capsTheText() async throws {
        let server = try FakeHTTPServer { _ in .text(String(repeating: "é", count: 100), contentType: "text/plain") }
        defer { server.stop() }
        let page = try await loopbackAllowed.fetch(url: server.baseURL + "/", maxBytes: 11)
        #expect(page.text == String(repeating: "é", count: 5))
    }

    @Test func refusesPagesOverTheDownloadCap() async throws {
        let server = try FakeHTTPServer { _ in .text(String(repeating: "x", count: 5000), contentType: "text/plain") }
        defer { server.stop() }
        let fetch = HTTPFetchProvider(configuration: .init(addressPolicy: .any, maxDownloadBytes: 1000, retry: .none))
        let error = await #expect(throws: ProviderError.self) { try await fetch.fetch(url: server.baseURL + "/", maxBytes: nil) }
        #expect(error?.code == .invalidResponse)
    }

    @Test func refusesOtherSchemes() async throws {
        let error = await #expect(throws: ProviderError.self) { try await HTTPFetchProvider().fetch(url: "file:///etc/passwd", maxBytes: nil) }
        #expect(error?.code == .invalidRequest)
    }

    @Test func documentsByURLGoThroughFetch() async throws {
        let server = try FakeHTTPServer { _ in .text("<p>Report body</p>", contentType: "text/html") }
        defer { server.stop() }
        let router = DocumentRouter(local: LocalDocumentLoader(root: NSTemporaryDirectory()), fetch: loopbackAllowed)
        let document = try await router.load(path: server.baseURL + "/report.html")
        #expect(document.text == "Report body")
    }

    @Test func aPDFWithoutPdftotextSaysWhatToInstall() async throws {
        let folder = try TemporaryFolder()
        try Data("%PDF-1.4".utf8).write(to: URL(fileURLWithPath: folder.path + "/report.pdf"))
        let loader = LocalDocumentLoader(root: folder.path, pdfTool: nil)
        let error = await #expect(throws: ProviderError.self) { try await loader.load(path: "report.pdf") }
        #expect(error?.code == .unsupported)
        #expect(error?.message.contains("pdftotext") == true)
        #expect(error?.message.contains("poppler-utils") == true)
    }

    @Test func aPDFIsReadThroughPdftotext() async throws {
        let folder = try TemporaryFolder()
        try Data("%PDF-1.4".utf8).write(to: URL(fileURLWithPath: folder.path + "/report.pdf"))
        // A stand-in for pdftotext: writes fixed text to its last argument, as the real one does.
        let tool = folder.path + "/pdftotext"
        try "#!/bin/sh\nfor last; do :; done\nprintf 'Quarterly revenue grew.' > \"$last\"\n".write(toFile: tool, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: tool)
        let document = try await LocalDocumentLoader(root: folder.path, pdfTool: tool).load(path: "report.pdf")
        #expect(document.text == "Quarterly revenue grew.")
    }
}

/// A fresh folder under the temporary directory, removed when released.
final class TemporaryFolder {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "sluice-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        do { try FileManager.default.removeItem(atPath: path) } catch { print("could not remove \(path): \(error)") }
    }
}
