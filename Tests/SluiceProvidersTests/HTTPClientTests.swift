import Foundation
import SluiceFakeServices
import SluiceJSON
import Testing

@testable import SluiceProviders

@Suite("HTTP client over libcurl")
struct HTTPClientTests {
    let client = HTTPClient()

    @Test func getsAWholeResponseWithHeadersAndBody() async throws {
        let server = try FakeHTTPServer { request in
            .text("hello \(request.query["name"] ?? "?")", headers: [("X-Echo", request.header("x-token") ?? "")])
        }
        defer { server.stop() }
        let response = try await client.send(HTTPRequest(url: server.baseURL + "/greet?name=ada", headers: [HTTPHeader("X-Token", "t1")]))
        #expect(response.status == 200)
        #expect(response.bodyText == "hello ada")
        #expect(response.head.value(for: "x-echo") == "t1")
        #expect(server.requests.first?.path == "/greet")
    }

    @Test func postsABody() async throws {
        let server = try FakeHTTPServer { request in .text("\(request.method) \(request.bodyText)") }
        defer { server.stop() }
        let response = try await client.send(HTTPRequest(method: .post, url: server.baseURL + "/echo", body: Array("{\"a\":1}".utf8)))
        #expect(response.bodyText == "POST {\"a\":1}")
    }

    @Test func streamsChunksAsTheyArrive() async throws {
        let server = try FakeHTTPServer { _ in .eventStream(["data: one", "data: two", "data: three"], pause: .milliseconds(20)) }
        defer { server.stop() }
        let response = try await client.stream(HTTPRequest(url: server.baseURL + "/stream"))
        #expect(response.head.value(for: "content-type") == "text/event-stream")
        var reader = ServerSentEventReader()
        var events: [String] = []
        for try await chunk in response.body { events += reader.feed(chunk).map(\.data) }
        #expect(events == ["one", "two", "three"])
    }

    @Test func reusesTheConnection() async throws {
        let server = try FakeHTTPServer { _ in .text("ok") }
        defer { server.stop() }
        for _ in 0..<3 { _ = try await client.send(HTTPRequest(url: server.baseURL + "/")) }
        #expect(server.requests.count == 3)
        #expect(server.connectionCount == 1)
    }

    @Test func failsWhenTheFirstByteIsLate() async throws {
        let server = try FakeHTTPServer { _ in FakeResponse(parts: [.bytes([65])], delayBeforeHead: .seconds(5)) }
        defer { server.stop() }
        let request = HTTPRequest(url: server.baseURL + "/slow", timeouts: HTTPTimeouts(firstByte: .milliseconds(200)))
        let error = await #expect(throws: HTTPClientError.self) { try await client.send(request) }
        #expect(error?.kind == .firstByteTimeout)
        #expect(error?.message.contains("127.0.0.1") == true)
    }

    @Test func failsWhenTheConnectionCannotBeMade() async throws {
        let blackhole = try SaturatedListener()
        let request = HTTPRequest(url: "http://127.0.0.1:\(blackhole.port)/", timeouts: HTTPTimeouts(connect: .milliseconds(300), firstByte: nil, idle: nil, total: nil))
        let error = await #expect(throws: HTTPClientError.self) { try await client.send(request) }
        #expect(error?.kind == .connectTimeout)
    }

    @Test func failsWhenTheStreamStalls() async throws {
        let server = try FakeHTTPServer { _ in .eventStream(["data: one", "data: two"], pause: .seconds(5)) }
        defer { server.stop() }
        let request = HTTPRequest(url: server.baseURL + "/stall", timeouts: HTTPTimeouts(idle: .milliseconds(200)))
        let response = try await client.stream(request)
        var received = 0
        let error = await #expect(throws: HTTPClientError.self) {
            for try await _ in response.body { received += 1 }
        }
        #expect(error?.kind == .idleTimeout)
        #expect(received == 1)
    }

    @Test func failsWhenTheWholeTransferIsTooLong() async throws {
        let server = try FakeHTTPServer { _ in .eventStream((0..<50).map { "data: \($0)" }, pause: .milliseconds(50)) }
        defer { server.stop() }
        let request = HTTPRequest(url: server.baseURL + "/long", timeouts: HTTPTimeouts(idle: .seconds(5), total: .milliseconds(300)))
        let error = await #expect(throws: HTTPClientError.self) { try await client.send(request) }
        #expect(error?.kind == .totalTimeout)
    }

    @Test func reportsAStreamCutOffMidway() async throws {
        let server = try FakeHTTPServer { _ in .eventStream(["data: one", "data: two", "data: three"], cutOffAfter: 2) }
        defer { server.stop() }
        let response = try await client.stream(HTTPRequest(url: server.baseURL + "/cut"))
        let error = await #expect(throws: HTTPClientError.self) {
            for try await _ in response.body {}
        }
        #expect(error?.kind == .network)
        #expect(error?.message.contains("cut off") == true)
    }

    @Test func cancellingTheTaskAbortsTheTransfer() async throws {
        let server = try FakeHTTPServer { _ in .eventStream((0..<20_000).map { "data: \($0)" }, pause: .milliseconds(20)) }
        defer { server.stop() }
        let (firstChunk, signal) = AsyncStream.makeStream(of: Void.self)
        let client = self.client
        let task = Task {
            let response = try await client.stream(HTTPRequest(url: server.baseURL + "/endless"))
            for try await _ in response.body { signal.yield() }
        }
        for await _ in firstChunk { break }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
    }

    @Test func droppingAHalfReadBodyClosesTheConnection() async throws {
        let server = try FakeHTTPServer { _ in .eventStream((0..<20_000).map { "data: \($0)" }, pause: .milliseconds(10)) }
        defer { server.stop() }
        // Endless in practice (200 s): even on a starved machine the server is still sending
        // when the body is dropped, so only the client can end the response.
        do {
            let response = try await client.stream(HTTPRequest(url: server.baseURL + "/endless"))
            for try await _ in response.body { break }
        }
        try await Self.waitUntil { server.interruptedResponses == 1 }
    }

    @Test func cancellingMidStreamClosesTheConnection() async throws {
        let server = try FakeHTTPServer { _ in .eventStream((0..<20_000).map { "data: \($0)" }, pause: .milliseconds(10)) }
        defer { server.stop() }
        let client = self.client
        let (firstChunk, signal) = AsyncStream.makeStream(of: Void.self)
        let task = Task {
            let response = try await client.stream(HTTPRequest(url: server.baseURL + "/endless"))
            for try await _ in response.body { signal.yield() }
        }
        for await _ in firstChunk { break }
        task.cancel()
        _ = await task.result
        try await Self.waitUntil { server.interruptedResponses == 1 }
    }

    /// How a caller is done with a response, for ``transfersAreFreedOnceDone``.
    enum BodyUse: String, CaseIterable, Sendable {
        case readToTheEnd, streamedToTheEnd, droppedHalfRead, failedMidway
    }

    /// Every transfer (its libcurl handle, buffers and request body) is freed once its caller
    /// is done with it. A served report makes about 20 calls; a cycle between a transfer and
    /// its body stream once kept every one of them for the life of the process (~70 KB a report).
    @Test(arguments: BodyUse.allCases)
    func transfersAreFreedOnceDone(_ use: BodyUse) async throws {
        let server = try FakeHTTPServer { request in
            switch request.path {
            case "/small": .text("ok")
            case "/cut": .eventStream(["data: one", "data: two", "data: three"], cutOffAfter: 2)
            case "/endless": .eventStream((0..<20_000).map { "data: \($0)" }, pause: .milliseconds(10))
            default: .eventStream(["data: one", "data: two", "data: three"], pause: .milliseconds(5))
            }
        }
        defer { server.stop() }
        weak var transfer: CurlTransfer?
        do {
            switch use {
            case .readToTheEnd:
                let response = try await client.stream(HTTPRequest(url: server.baseURL + "/small"))
                transfer = response.body.lease.transfer
                for try await _ in response.body {}
            case .streamedToTheEnd:
                let response = try await client.stream(HTTPRequest(url: server.baseURL + "/stream"))
                transfer = response.body.lease.transfer
                for try await _ in response.body {}
            case .droppedHalfRead:
                let response = try await client.stream(HTTPRequest(url: server.baseURL + "/endless"))
                transfer = response.body.lease.transfer
                for try await _ in response.body { break }
            case .failedMidway:
                let response = try await client.stream(HTTPRequest(url: server.baseURL + "/cut"))
                transfer = response.body.lease.transfer
                await #expect(throws: HTTPClientError.self) { for try await _ in response.body {} }
            }
        }
        // The loop thread may still hold it for the rest of its round: a bound, not a timing assertion.
        try await Self.waitUntil { transfer == nil }
    }

    /// Polls `condition` for up to 10 seconds (a bound, not a timing assertion).
    static func waitUntil(_ condition: () -> Bool) async throws {
        for _ in 0..<1000 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
        #expect(condition())
    }

    @Test func cancellingBeforeTheHeadArrivesAbortsAtOnce() async throws {
        let server = try FakeHTTPServer { _ in FakeResponse(parts: [.bytes([65])], delayBeforeHead: .seconds(30)) }
        defer { server.stop() }
        let client = self.client
        let task = Task { try await client.send(HTTPRequest(url: server.baseURL + "/never")) }
        while server.requests.isEmpty { try await Task.sleep(for: .milliseconds(5)) }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
    }

    @Test func capsTheResponseSize() async throws {
        let server = try FakeHTTPServer { _ in .text(String(repeating: "x", count: 10_000)) }
        defer { server.stop() }
        let error = await #expect(throws: HTTPClientError.self) {
            try await client.send(HTTPRequest(url: server.baseURL + "/big", maxResponseBytes: 1000))
        }
        #expect(error?.kind == .responseTooLarge)
    }

    @Test func refusesLoopbackUnlessAllowed() async throws {
        let server = try FakeHTTPServer { _ in .text("secret") }
        defer { server.stop() }
        let error = await #expect(throws: HTTPClientError.self) {
            try await client.send(HTTPRequest(url: server.baseURL + "/", addressPolicy: .publicOnly))
        }
        #expect(error?.kind == .addressRefused)
        #expect(error?.message.contains("127.0.0.1") == true)
        #expect(server.requests.isEmpty)
        let allowed = try await client.send(HTTPRequest(url: server.baseURL + "/", addressPolicy: AddressPolicy(allowLoopback: true, allowPrivate: false)))
        #expect(allowed.bodyText == "secret")
    }

    @Test func refusesANameThatResolvesToLoopback() async throws {
        let target = try FakeHTTPServer { _ in .text("internal") }
        defer { target.stop() }
        // "localhost" is a name, so the guard must look at the address it resolves to.
        let error = await #expect(throws: HTTPClientError.self) {
            try await client.send(HTTPRequest(url: "http://localhost:\(target.port)/admin", addressPolicy: .publicOnly))
        }
        #expect(error?.kind == .addressRefused)
        #expect(target.requests.isEmpty)
    }

    @Test(arguments: [
        ("127.0.0.1", "loopback"), ("::1", "loopback"), ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private"), ("172.16.0.1", "private"), ("192.168.1.1", "private"), ("169.254.169.254", "private"),
        ("100.64.0.1", "private"), ("0.0.0.0", "private"), ("fe80::1", "private"), ("fd00::1", "private"),
        ("8.8.8.8", "public"), ("172.32.0.1", "public"), ("2606:4700::1111", "public"),
    ])
    func classifiesAddresses(address: String, expected: String) throws {
        let ip = try #require(IPAddress(address))
        let kind = ip.isLoopback ? "loopback" : ip.isPrivateOrLinkLocal ? "private" : "public"
        #expect(kind == expected)
    }
}
