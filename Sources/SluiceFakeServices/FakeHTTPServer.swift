import Foundation
public import SluiceJSON
import Synchronization

/// A request as the fake server received it.
public struct FakeRequest: Sendable {
    public var method: String
    /// The path without the query string.
    public var path: String
    /// Query parameters, percent-decoded (the last value wins for repeated names).
    public var query: [String: String]
    /// Header values by lowercased name.
    public var headers: [String: String]
    public var body: [UInt8]

    public var bodyText: String { String(decoding: body, as: UTF8.self) }
    /// The body parsed as JSON, nil when it is not JSON.
    public var json: JSONValue? {
        do { return try JSONParser.parse(body) } catch { return nil }
    }

    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// What the fake sends back: a status, headers and a script of body pieces and pauses.
public struct FakeResponse: Sendable {
    public enum Part: Sendable {
        case bytes([UInt8])
        /// Bytes made at the moment they are sent (e.g. carrying a send timestamp).
        case generated(@Sendable () -> [UInt8])
        /// Waits; ends early if the client goes away.
        case pause(Duration)
        /// Closes the connection at once, mid-body (a stream cut off midway).
        case cutOff
    }

    public var status: Int
    public var headers: [(String, String)]
    public var parts: [Part]
    /// Send the body with chunked transfer encoding (streams) instead of Content-Length.
    public var chunked: Bool
    /// Wait this long before sending anything (time-to-first-byte tests).
    public var delayBeforeHead: Duration

    public init(status: Int = 200, headers: [(String, String)] = [], parts: [Part] = [], chunked: Bool = false, delayBeforeHead: Duration = .zero) {
        self.status = status
        self.headers = headers
        self.parts = parts
        self.chunked = chunked
        self.delayBeforeHead = delayBeforeHead
    }

    public static func json(_ value: JSONValue, status: Int = 200, headers: [(String, String)] = []) -> FakeResponse {
        text(value.serialized(), status: status, contentType: "application/json", headers: headers)
    }

    public static func text(_ text: String, status: Int = 200, contentType: String = "text/plain; charset=utf-8", headers: [(String, String)] = []) -> FakeResponse {
        FakeResponse(status: status, headers: [("Content-Type", contentType)] + headers, parts: [.bytes(Array(text.utf8))])
    }

    /// A `text/event-stream` response: each entry is one event's raw text (`data: …`), sent
    /// as its own chunk with `pause` between chunks.
    public static func eventStream(_ events: [String], pause: Duration = .zero, cutOffAfter: Int? = nil) -> FakeResponse {
        var parts: [Part] = []
        for (index, event) in events.enumerated() {
            if let cutOffAfter, index == cutOffAfter {
                parts.append(.cutOff)
                break
            }
            if index > 0, pause > .zero { parts.append(.pause(pause)) }
            parts.append(.bytes(Array((event + "\n\n").utf8)))
        }
        return FakeResponse(status: 200, headers: [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")], parts: parts, chunked: true)
    }
}

/// A tiny HTTP/1.1 server on 127.0.0.1 for tests and benchmarks: one thread accepts, one
/// thread serves each connection (keep-alive supported), every request is recorded.
///
/// ```swift
/// let server = try FakeHTTPServer { request in .json(["ok": true]) }
/// defer { server.stop() }
/// let url = server.baseURL + "/v1/chat/completions"
/// ```
public final class FakeHTTPServer: Sendable {
    public typealias Handler = @Sendable (FakeRequest) -> FakeResponse

    public let port: Int
    private let listener: Int32
    private let handler: Handler
    private let recorded = Mutex<[FakeRequest]>([])
    private let stopped = Atomic<Bool>(false)
    private let connections = Atomic<Int>(0)
    private let interrupted = Atomic<Int>(0)

    public var baseURL: String { "http://127.0.0.1:\(port)" }
    /// Every request received so far, in order.
    public var requests: [FakeRequest] { recorded.withLock { $0 } }
    /// How many connections have been accepted (to check connection reuse).
    public var connectionCount: Int { connections.load(ordering: .sequentiallyConsistent) }
    /// How many responses could not be finished because the client went away mid-response.
    public var interruptedResponses: Int { interrupted.load(ordering: .sequentiallyConsistent) }

    public init(handler: @escaping Handler) throws {
        self.handler = handler
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw FakeServerError("socket() failed: errno \(errno)") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 1024) == 0 else {
            close(fd)
            throw FakeServerError("cannot listen on 127.0.0.1: errno \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.stackSize = 256 << 10
        thread.start()
    }

    deinit { stop() }

    /// Stops accepting connections; connections being served finish their current response.
    public func stop() {
        guard !stopped.exchange(true, ordering: .sequentiallyConsistent) else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func acceptLoop() {
        while !stopped.load(ordering: .sequentiallyConsistent) {
            let connection = accept(listener, nil, nil)
            if connection < 0 {
                if errno == EINTR { continue }
                return
            }
            connections.add(1, ordering: .sequentiallyConsistent)
            var yes: Int32 = 1
            setsockopt(connection, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
            let thread = Thread { [self] in serve(connection) }
            thread.stackSize = 256 << 10
            thread.start()
        }
    }

    private func serve(_ fd: Int32) {
        var connection = FakeConnection(fd: fd)
        defer { close(fd) }
        while let request = connection.readRequest() {
            recorded.withLock { $0.append(request) }
            let response = handler(request)
            switch connection.write(response) {
            case .finished:
                if request.header("connection")?.lowercased() == "close" { return }
            case .cutOff:
                return
            case .clientGone:
                interrupted.add(1, ordering: .sequentiallyConsistent)
                return
            }
        }
    }
}

public struct FakeServerError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
