import Foundation
import SluiceFakeServices

/// What one SSE client saw.
struct SSEClientResult: Sendable {
    /// Events (comment-only blocks such as heartbeats are not counted).
    var events: Int
    /// Whether the last event was `final_result` (the run completed and the stream said so).
    var endedWithFinalResult: Bool
    /// From connect to the last byte.
    var seconds: Double
    /// Numeric `id:`s skipped between consecutive events (ids are the run's event sequence).
    var skippedIDs: Int
}

/// A blocking HTTP/1.1 client over a loopback TCP socket, for the SSE benchmark: it sends one
/// request with `Connection: close`, reads until the server closes, then decodes the chunked
/// body and counts the events. Reading first and parsing after keeps the client's work off the
/// timed path as much as possible.
enum SSEBenchmarkClient {
    /// A stream that says nothing for this long fails the client (bounds every loop).
    static let receiveTimeoutSeconds = 60
    /// A response larger than this fails the client instead of growing without bound.
    static let maxResponseBytes = 64 << 20

    static func stream(port: Int, path: String, body: String) throws(BenchmarkFailure) -> SSEClientResult {
        let start = ContinuousClock.now
        let descriptor: Int32
        do {
            descriptor = try LoopbackSocket.open(port: port)
        } catch {
            throw BenchmarkFailure(error.description)
        }
        defer { close(descriptor) }
        var timeout = timeval(tv_sec: receiveTimeoutSeconds, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))

        let payload = Array(body.utf8)
        let head = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\nAccept: text/event-stream\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(payload.count)\r\n\r\n"
        let request = Array(head.utf8) + payload
        do {
            try LoopbackSocket.sendAll(request, to: descriptor)
        } catch {
            throw BenchmarkFailure("sending to \(path): \(error.description)")
        }

        var response: [UInt8] = []
        response.reserveCapacity(64 * 1024)
        var scratch = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = scratch.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw BenchmarkFailure("recv from \(path) failed after \(response.count) bytes: errno \(errno)")
            }
            response.append(contentsOf: scratch[0..<count])
            guard response.count <= maxResponseBytes else { throw BenchmarkFailure("\(path): response over \(maxResponseBytes) bytes") }
        }
        let seconds = (ContinuousClock.now - start).seconds
        let parsed = try parse(response, path: path)
        return SSEClientResult(events: parsed.events, endedWithFinalResult: parsed.lastEvent == "final_result", seconds: seconds, skippedIDs: parsed.skippedIDs)
    }

    /// The number of events in the response, the name of the last one, and the ids skipped.
    static func parse(_ response: [UInt8], path: String) throws(BenchmarkFailure) -> (events: Int, lastEvent: String?, skippedIDs: Int) {
        guard let headEnd = find([13, 10, 13, 10], in: response, from: 0) else { throw BenchmarkFailure("\(path): no complete response head") }
        let head = String(decoding: response[0..<headEnd], as: UTF8.self)
        let statusLine = head.prefix { $0 != "\r" }
        guard statusLine.split(separator: " ").dropFirst().first == "200" else { throw BenchmarkFailure("\(path): answered '\(statusLine)'") }
        var body: [UInt8]
        if head.lowercased().contains("transfer-encoding: chunked") {
            body = []
            var position = headEnd + 4
            while let lineEnd = find([13, 10], in: response, from: position) {
                let sizeText = String(decoding: response[position..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
                guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else {
                    throw BenchmarkFailure("\(path): bad chunk size '\(sizeText)'")
                }
                if size == 0 { break }
                let dataStart = lineEnd + 2
                guard dataStart + size <= response.count else { throw BenchmarkFailure("\(path): the stream ended inside a chunk") }
                body.append(contentsOf: response[dataStart..<(dataStart + size)])
                position = dataStart + size + 2
            }
        } else {
            body = Array(response[(headEnd + 4)...])
        }
        var events = 0
        var lastEvent: String?
        var skippedIDs = 0
        var previousID = 0  // the run's events are numbered from 1
        for block in String(decoding: body, as: UTF8.self).components(separatedBy: "\n\n") {
            let lines = block.split(separator: "\n").filter { !$0.hasPrefix(":") }
            guard !lines.isEmpty else { continue }
            events += 1
            lastEvent = lines.first { $0.hasPrefix("event:") }.map { $0.dropFirst("event:".count).trimmingCharacters(in: .whitespaces) }
            if let id = lines.first(where: { $0.hasPrefix("id:") }).flatMap({ Int($0.dropFirst("id:".count).trimmingCharacters(in: .whitespaces)) }) {
                if id > previousID + 1 { skippedIDs += id - previousID - 1 }
                previousID = id
            }
        }
        return (events, lastEvent, skippedIDs)
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
