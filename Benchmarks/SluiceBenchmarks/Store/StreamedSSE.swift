import Foundation
import SluiceFakeServices

/// A `GET` whose SSE response is read as it arrives, noting the wall-clock time at which each
/// event was complete and parsed (its `id:` line): what the cross-replica latency is measured to.
///
/// The body may be chunked (it is, from `sluice serve`): chunks are undone first, then events
/// cut at blank lines; a chunk boundary inside an event only delays that event to the chunk
/// that completes it, as for any client.
enum StreamedSSE {
    struct Event {
        var id: String
        /// Seconds since 1970 when the client had the whole event.
        var parsedAt: Double
        var name: String?
    }

    /// Reads `path` from `port` to the end of the stream; `onHead` gets the time the response
    /// head arrived (events stored before then were replayed, not pushed).
    static func follow(port: Int, path: String, onHead: (Double) -> Void) throws(BenchmarkFailure) -> [Event] {
        let descriptor: Int32
        do {
            descriptor = try LoopbackSocket.open(port: port)
        } catch {
            throw BenchmarkFailure(error.description)
        }
        defer { close(descriptor) }
        var timeout = timeval(tv_sec: 300, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nAccept: text/event-stream\r\nConnection: close\r\n\r\n"
        do {
            try LoopbackSocket.sendAll(Array(request.utf8), to: descriptor)
        } catch {
            throw BenchmarkFailure("GET \(path): \(error.description)")
        }
        var raw: [UInt8] = []
        var headDone = false
        var chunked = false
        var body: [UInt8] = []
        var events: [Event] = []
        var scratch = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count: Int
            do {
                count = try LoopbackSocket.receive(from: descriptor, into: &scratch)
            } catch {
                throw BenchmarkFailure("GET \(path): \(error.description) after \(events.count) events")
            }
            if count == 0 { break }
            let now = Date().timeIntervalSince1970
            raw.append(contentsOf: scratch[0..<count])
            if !headDone {
                guard let end = find([13, 10, 13, 10], in: raw, from: 0) else { continue }
                let head = String(decoding: raw[0..<end], as: UTF8.self).lowercased()
                guard head.hasPrefix("http/1.1 200") else { throw BenchmarkFailure("GET \(path): \(head.prefix(200))") }
                chunked = head.contains("transfer-encoding: chunked")
                raw.removeFirst(end + 4)
                headDone = true
                onHead(now)
            }
            if chunked {
                // Whole chunks only: `size\r\n data \r\n`.
                while let lineEnd = find([13, 10], in: raw, from: 0) {
                    let sizeText = String(decoding: raw[0..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
                    guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else {
                        throw BenchmarkFailure("GET \(path): bad chunk size '\(sizeText)'")
                    }
                    if size == 0 { return events + cut(&body, at: now) }
                    guard raw.count >= lineEnd + 2 + size + 2 else { break }
                    body.append(contentsOf: raw[(lineEnd + 2)..<(lineEnd + 2 + size)])
                    raw.removeFirst(lineEnd + 2 + size + 2)
                }
            } else {
                body.append(contentsOf: raw)
                raw.removeAll(keepingCapacity: true)
            }
            events += cut(&body, at: now)
        }
        return events
    }

    /// The complete events at the front of `body` (removed from it).
    private static func cut(_ body: inout [UInt8], at time: Double) -> [Event] {
        var events: [Event] = []
        while let end = find([10, 10], in: body, from: 0) {
            let block = String(decoding: body[0..<end], as: UTF8.self)
            body.removeFirst(end + 2)
            var id: String?
            var name: String?
            for line in block.split(separator: "\n") {
                if line.hasPrefix("id:") { id = line.dropFirst(3).trimmingCharacters(in: .whitespaces) }
                if line.hasPrefix("event:") { name = line.dropFirst(6).trimmingCharacters(in: .whitespaces) }
            }
            if let id { events.append(Event(id: id, parsedAt: time, name: name)) }
        }
        return events
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var index = start
        while index + needle.count <= haystack.count {
            if haystack[index] == needle[0] && Array(haystack[index..<(index + needle.count)]) == needle { return index }
            index += 1
        }
        return nil
    }
}
