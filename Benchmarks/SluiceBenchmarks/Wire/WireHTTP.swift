import Foundation
import SluiceFakeServices
import SluiceJSON

/// One HTTP/1.1 exchange over a loopback socket, read to the end and decoded (chunked bodies
/// included): the wire benchmark's client, which parses what it gets as a real client must.
struct WireExchange {
    var status: Int
    /// Lowercased names.
    var headers: [String: String]
    var body: [UInt8]

    /// The SSE events of the body: each event's data lines joined, comments skipped.
    var events: [(event: String?, data: String)] {
        var events: [(String?, String)] = []
        for block in String(decoding: body, as: UTF8.self).components(separatedBy: "\n\n") {
            var name: String?
            var data: [Substring] = []
            for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix("data:") {
                    data.append(line.dropFirst(5).drop { $0 == " " })
                } else if line.hasPrefix("event:") {
                    name = line.dropFirst(6).trimmingCharacters(in: .whitespaces)
                }
            }
            if name != nil || !data.isEmpty { events.append((name, data.joined(separator: "\n"))) }
        }
        return events
    }

    static let receiveTimeoutSeconds = 120
    static let maxResponseBytes = 64 << 20

    static func send(port: Int, method: String, path: String, headers: [String: String] = [:], body: [UInt8] = []) throws(BenchmarkFailure) -> WireExchange {
        let descriptor: Int32
        do {
            descriptor = try LoopbackSocket.open(port: port)
        } catch {
            throw BenchmarkFailure(error.description)
        }
        defer { close(descriptor) }
        var timeout = timeval(tv_sec: receiveTimeoutSeconds, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if !body.isEmpty || method == "POST" { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        do {
            try LoopbackSocket.sendAll(Array(head.utf8) + body, to: descriptor)
        } catch {
            throw BenchmarkFailure("sending \(method) \(path): \(error.description)")
        }
        var response: [UInt8] = []
        var scratch = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count: Int
            do {
                count = try LoopbackSocket.receive(from: descriptor, into: &scratch)
            } catch {
                throw BenchmarkFailure("\(method) \(path): \(error.description) after \(response.count) bytes")
            }
            if count == 0 { break }
            response.append(contentsOf: scratch[0..<count])
            guard response.count <= maxResponseBytes else { throw BenchmarkFailure("\(path): response over \(maxResponseBytes) bytes") }
        }
        return try decode(response, path: path)
    }

    static func decode(_ response: [UInt8], path: String) throws(BenchmarkFailure) -> WireExchange {
        guard let headEnd = find([13, 10, 13, 10], in: response, from: 0) else { throw BenchmarkFailure("\(path): no complete response head") }
        let lines = String(decoding: response[0..<headEnd], as: UTF8.self).components(separatedBy: "\r\n")
        guard let status = lines.first?.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else {
            throw BenchmarkFailure("\(path): bad status line '\(lines.first ?? "")'")
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body: [UInt8] = []
        if headers["transfer-encoding"]?.lowercased() == "chunked" {
            var position = headEnd + 4
            while let lineEnd = find([13, 10], in: response, from: position) {
                let sizeText = String(decoding: response[position..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
                guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else {
                    throw BenchmarkFailure("\(path): bad chunk size '\(sizeText)'")
                }
                if size == 0 { break }
                let start = lineEnd + 2
                guard start + size <= response.count else { throw BenchmarkFailure("\(path): the stream ended inside a chunk") }
                body.append(contentsOf: response[start..<(start + size)])
                position = start + size + 2
            }
        } else {
            body = Array(response[(headEnd + 4)...])
        }
        return WireExchange(status: status, headers: headers, body: body)
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        var index = start
        while index <= haystack.count - needle.count {
            if haystack[index] == needle[0], haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}
