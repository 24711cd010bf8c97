import Foundation

/// One accepted connection: reads requests, writes scripted responses.
struct FakeConnection {
    let fd: Int32
    private var buffer: [UInt8] = []

    init(fd: Int32) {
        self.fd = fd
    }

    /// The next request, or nil when the client closed the connection or sent garbage.
    mutating func readRequest() -> FakeRequest? {
        var headerEnd: Int?
        while true {
            if let end = Self.find([13, 10, 13, 10], in: buffer) {
                headerEnd = end
                break
            }
            guard fill() else { return nil }
        }
        guard let headerEnd else { return nil }
        let headText = String(decoding: buffer[..<headerEnd], as: UTF8.self)
        buffer.removeFirst(headerEnd + 4)
        var lines = headText.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count >= 2 else { return nil }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = headers["content-length"].flatMap { Int($0) } ?? 0
        while buffer.count < length {
            guard fill() else { return nil }
        }
        let body = Array(buffer.prefix(length))
        buffer.removeFirst(length)
        let target = String(requestLine[1])
        let (path, query) = Self.split(target)
        return FakeRequest(method: String(requestLine[0]), path: path, query: query, headers: headers, body: body)
    }

    enum WriteOutcome {
        case finished
        /// The script cut the connection on purpose.
        case cutOff
        /// The client closed the connection before the response was complete.
        case clientGone
    }

    /// Writes `response`.
    func write(_ response: FakeResponse) -> WriteOutcome {
        if response.delayBeforeHead > .zero, !pause(response.delayBeforeHead) { return .clientGone }
        var head = "HTTP/1.1 \(response.status) \(Self.reason(response.status))\r\n"
        for (name, value) in response.headers { head += "\(name): \(value)\r\n" }
        if response.chunked {
            head += "Transfer-Encoding: chunked\r\n"
        } else {
            // Generated parts need chunked encoding; fixed ones are counted here.
            let length = response.parts.reduce(0) { total, part in
                if case .bytes(let bytes) = part { total + bytes.count } else { total }
            }
            head += "Content-Length: \(length)\r\n"
        }
        head += "\r\n"
        guard send(Array(head.utf8)) else { return .clientGone }
        for part in response.parts {
            switch part {
            case .bytes, .generated:
                let bytes: [UInt8] = if case .generated(let make) = part { make() } else if case .bytes(let fixed) = part { fixed } else { [] }
                let framed = response.chunked ? Array((String(bytes.count, radix: 16) + "\r\n").utf8) + bytes + [13, 10] : bytes
                guard bytes.isEmpty || send(framed) else { return .clientGone }
            case .pause(let duration):
                guard pause(duration) else { return .clientGone }
            case .cutOff:
                shutdown(fd, Int32(SHUT_RDWR))
                return .cutOff
            }
        }
        if response.chunked, !send(Array("0\r\n\r\n".utf8)) { return .clientGone }
        return .finished
    }

    private mutating func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return false }
        buffer += chunk.prefix(count)
        return true
    }

    private func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Foundation.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return false }
            offset += sent
        }
        return true
    }

    /// Waits for `duration`; false if the client closed the connection meanwhile.
    private func pause(_ duration: Duration) -> Bool {
        let deadline = ContinuousClock.now + duration
        while true {
            let left = ContinuousClock.now.duration(to: deadline)
            if left <= .zero { return true }
            let (seconds, attoseconds) = left.components
            let milliseconds = Int32(min(Int64(seconds) * 1000 + attoseconds / 1_000_000_000_000_000 + 1, 60_000))
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, milliseconds)
            // Anything readable mid-response means the client hung up (it sends nothing else).
            if ready > 0 { return false }
        }
    }

    private static func find(_ pattern: [UInt8], in bytes: [UInt8]) -> Int? {
        guard bytes.count >= pattern.count else { return nil }
        for index in 0...(bytes.count - pattern.count) where bytes[index] == pattern[0] {
            if Array(bytes[index..<(index + pattern.count)]) == pattern { return index }
        }
        return nil
    }

    private static func split(_ target: String) -> (String, [String: String]) {
        guard let question = target.firstIndex(of: "?") else { return (target, [:]) }
        var query: [String: String] = [:]
        for pair in target[target.index(after: question)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (text: Substring) in
                text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(text)
            }
            query[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return (String(target[..<question]), query)
    }

    private static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 404: "Not Found"
        case 408: "Request Timeout"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 503: "Service Unavailable"
        default: "Status"
        }
    }
}
