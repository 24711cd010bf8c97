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

/// The SSE benchmark's client: one request through ``WireExchange`` (read to the end, then
/// decoded), then the events counted. Reading first and parsing after keeps the client's work
/// off the timed path as much as possible.
enum SSEBenchmarkClient {
    static func stream(port: Int, path: String, body: String) throws(BenchmarkFailure) -> SSEClientResult {
        let start = ContinuousClock.now
        let exchange = try WireExchange.send(
            port: port, method: "POST", path: path,
            headers: ["Accept": "text/event-stream", "Content-Type": "application/json"], body: Array(body.utf8))
        let seconds = (ContinuousClock.now - start).seconds
        guard exchange.status == 200 else { throw BenchmarkFailure("\(path): answered \(exchange.status)") }
        let parsed = count(exchange.body)
        return SSEClientResult(events: parsed.events, endedWithFinalResult: parsed.lastEvent == "final_result", seconds: seconds, skippedIDs: parsed.skippedIDs)
    }

    /// The number of events in an SSE body, the name of the last one, and the ids skipped.
    static func count(_ body: [UInt8]) -> (events: Int, lastEvent: String?, skippedIDs: Int) {
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
}
