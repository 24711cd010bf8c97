import Foundation
import SluiceFakeServices
import Synchronization

/// A minimal HTTP/1.1 client over a real TCP socket, for tests: it sees exactly what the server
/// sends (status, headers, chunked bodies, SSE), and can drop a connection mid-stream.
final class RawHTTPConnection: Sendable {
    struct Head: Sendable {
        var status: Int
        var headers: [String: String]   // lowercased names
    }

    enum Chunk: Sendable {
        case head(Head)
        case data([UInt8])
        case failed(String)
    }

    private let descriptor: Int32
    /// Whether the descriptor is closed: once it is, its number may belong to another socket,
    /// so ``disconnect()`` must not touch it.
    private let closed = Locked(false)
    let chunks = Mailbox<Chunk>()
    /// `METHOD path`, for failure messages.
    let requestLine: String

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Connects to 127.0.0.1:`port`, sends the request, and reads the answer on a thread.
    /// - Parameter host: the `Host` header (`127.0.0.1:PORT` by default).
    init(port: Int, method: String, path: String, headers: [String: String] = [:], body: [UInt8] = [], host: String? = nil) throws {
        let socketDescriptor: Int32
        do {
            socketDescriptor = try LoopbackSocket.open(port: port)
        } catch {
            throw Failure(description: error.description)
        }
        descriptor = socketDescriptor
        requestLine = "\(method) \(path)"
        var request = "\(method) \(path) HTTP/1.1\r\nHost: \(host ?? "127.0.0.1:\(port)")\r\nConnection: close\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        if !body.isEmpty || method == "POST" { request += "Content-Length: \(body.count)\r\n" }
        request += "\r\n"
        let bytes = Array(request.utf8) + body
        do {
            try LoopbackSocket.sendAll(bytes, to: socketDescriptor)
        } catch {
            throw Failure(description: error.description)
        }
        let chunks = self.chunks
        let closed = self.closed
        let thread = Thread {
            Self.read(socketDescriptor, into: chunks)
            closed.withLock { closed in
                closed = true
                close(socketDescriptor)
            }
        }
        thread.start()
    }

    /// Drops the connection (the client going away mid-stream).
    func disconnect() {
        closed.withLock { closed in
            if !closed { shutdown(descriptor, Int32(SHUT_RDWR)) }
        }
    }

    private static func read(_ descriptor: Int32, into chunks: Mailbox<Chunk>) {
        defer { chunks.close() }
        var buffer = [UInt8]()
        var scratch = [UInt8](repeating: 0, count: 1 << 16)
        func fill() -> Bool {
            let count: Int
            do {
                count = try LoopbackSocket.receive(from: descriptor, into: &scratch)
            } catch {
                chunks.put(.failed(error.description))
                return false
            }
            if count == 0 { return false }
            buffer.append(contentsOf: scratch[0..<count])
            return true
        }
        // Head.
        var headEnd: Int?
        while headEnd == nil {
            if let range = find([13, 10, 13, 10], in: buffer) { headEnd = range } else if !fill() { return }
        }
        guard let end = headEnd, let headText = String(bytes: buffer[0..<end], encoding: .utf8) else { return }
        buffer.removeFirst(end + 4)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        chunks.put(.head(Head(status: statusLine.count > 1 ? Int(statusLine[1]) ?? 0 : 0, headers: headers)))
        if headers["transfer-encoding"]?.lowercased() == "chunked" {
            while true {
                var lineEnd = find([13, 10], in: buffer)
                while lineEnd == nil {
                    guard fill() else { return }
                    lineEnd = find([13, 10], in: buffer)
                }
                guard let sizeEnd = lineEnd, let sizeText = String(bytes: buffer[0..<sizeEnd], encoding: .utf8),
                      let size = Int(sizeText.split(separator: ";")[0].trimmingCharacters(in: .whitespaces), radix: 16) else { return }
                buffer.removeFirst(sizeEnd + 2)
                if size == 0 { return }
                while buffer.count < size + 2 {
                    guard fill() else { return }
                }
                chunks.put(.data(Array(buffer[0..<size])))
                buffer.removeFirst(size + 2)
            }
        } else {
            var remaining = headers["content-length"].flatMap { Int($0) } ?? Int.max
            while remaining > 0 {
                if !buffer.isEmpty {
                    let take = min(buffer.count, remaining)
                    chunks.put(.data(Array(buffer[0..<take])))
                    buffer.removeFirst(take)
                    remaining -= take
                    continue
                }
                guard fill() else { return }
            }
        }
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if Array(haystack[start..<(start + needle.count)]) == needle { return start }
        }
        return nil
    }

    // MARK: Reading answers

    func head() async throws -> Head {
        switch await chunks.take() {
        case .head(let head)?: return head
        case .failed(let reason)?: throw Failure(description: "\(requestLine): no response head: \(reason)")
        default: throw Failure(description: "\(requestLine): no response head: the server closed the connection")
        }
    }

    /// The whole body (after ``head()``).
    func body() async -> [UInt8] {
        var bytes: [UInt8] = []
        while case .data(let data)? = await chunks.take() { bytes += data }
        return bytes
    }
}

/// One SSE event as a client parses it.
struct ReceivedSSE: Sendable, Equatable {
    var id: String?
    var event: String?
    var data: String
}

/// Parses SSE from a connection's body chunks, event by event.
final class SSEReader: Sendable {
    private let connection: RawHTTPConnection
    private let state = Mutex<(pending: [UInt8], comments: Int)>(([], 0))

    init(_ connection: RawHTTPConnection) {
        self.connection = connection
    }

    var commentsSeen: Int { state.withLock { $0.comments } }

    /// The next event, or nil at the end of the stream.
    /// With `includeComments`, a comment block comes back as an event named `:` with the comment as data.
    func next(includeComments: Bool = false) async -> ReceivedSSE? {
        while true {
            if let event = parseOne(includeComments: includeComments) { return event }
            guard case .data(let bytes)? = await connection.chunks.take() else { return nil }
            state.withLock { $0.pending += bytes }
        }
    }

    private func parseOne(includeComments: Bool) -> ReceivedSSE? {
        state.withLock { state in
            while true {
                guard let end = Self.blankLine(in: state.pending) else { return nil }
                let block = String(decoding: state.pending[0..<end], as: UTF8.self)
                state.pending.removeFirst(end + 2)
                var event = ReceivedSSE(id: nil, event: nil, data: "")
                var dataLines: [String] = []
                var isComment = true
                var comment = ""
                for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
                    if line.hasPrefix(":") {
                        comment = String(line.dropFirst()).trimmingCharacters(in: .whitespaces)
                        continue
                    }
                    isComment = false
                    let (field, value) = line.firstIndex(of: ":").map { (String(line[..<$0]), String(line[line.index(after: $0)...]).drop(while: { $0 == " " })) } ?? (String(line), "")
                    switch field {
                    case "id": event.id = String(value)
                    case "event": event.event = String(value)
                    case "data": dataLines.append(String(value))
                    default: break
                    }
                }
                if isComment {
                    state.comments += 1
                    if includeComments { return ReceivedSSE(id: nil, event: ":", data: comment) }
                    continue
                }
                event.data = dataLines.joined(separator: "\n")
                return event
            }
        }
    }

    private static func blankLine(in bytes: [UInt8]) -> Int? {
        guard bytes.count >= 2 else { return nil }
        for index in 0..<(bytes.count - 1) where bytes[index] == 10 && bytes[index + 1] == 10 { return index }
        return nil
    }
}
