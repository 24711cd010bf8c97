import SluiceJSON
import Synchronization

/// One SSE stream of an MCP session (a POST's answer, or the GET stream), resumable with
/// `Last-Event-ID`: it numbers its events and keeps the last `capacity` of them for replay.
///
/// Event ids are `<stream>_<n>`, unique across the session's streams, so a `Last-Event-ID`
/// names the stream to resume as well as the position in it.
final class ResumableStream: Sendable {
    let streamID: Int
    let capacity: Int
    /// Whether the stream notes how to make each event again after it left the buffer
    /// (``Origin``): a `tools/call` stream of a server with a durable store.
    let recordsOrigins: Bool

    /// How an event can be made again: rendered from a stored run event, or kept whole (the
    /// few that are not rendered from the run: the priming event, requests to the client, the
    /// response).
    enum Origin: Sendable {
        case rendered(RenderedOrigin)
        case kept(SSEEvent)
    }

    private struct State {
        var buffer: [(number: Int, event: SSEEvent)] = []
        /// With `recordsOrigins`: the origin of event number `i + 1` at index `i`.
        var origins: [Origin] = []
        var nextNumber = 1
        var subscriber: (key: UInt64, continuation: AsyncStream<SSEEvent>.Continuation)?
        var nextKey: UInt64 = 0
        var finished = false
        /// The last event handed to a connected client.
        var lastYielded = 0
    }

    private let state = Mutex(State())

    init(streamID: Int, capacity: Int, recordsOrigins: Bool = false) {
        self.streamID = streamID
        self.capacity = max(1, capacity)
        self.recordsOrigins = recordsOrigins
    }

    /// Appends a message, numbering it, and hands it to the connected client if any.
    /// `origin`: the run event it was rendered from (nil: kept whole when origins are recorded).
    func append(data: String, event: String? = nil, origin: RenderedOrigin? = nil) {
        let (sse, subscriber) = state.withLock { state -> (SSEEvent, AsyncStream<SSEEvent>.Continuation?) in
            let sse = SSEEvent(id: "\(streamID)_\(state.nextNumber)", event: event, data: data)
            if recordsOrigins { state.origins.append(origin.map(Origin.rendered) ?? .kept(sse)) }
            state.buffer.append((state.nextNumber, sse))
            state.nextNumber += 1
            if state.buffer.count > capacity { state.buffer.removeFirst(state.buffer.count - capacity) }
            if state.subscriber != nil { state.lastYielded = state.nextNumber - 1 }
            return (sse, state.subscriber?.continuation)
        }
        subscriber?.yield(sse)
    }

    /// No more events: the connected client's stream ends after what it has.
    func finish() {
        let subscriber = state.withLock { state in
            state.finished = true
            defer { state.subscriber = nil }
            return state.subscriber?.continuation
        }
        subscriber?.finish()
    }

    var isFinished: Bool { state.withLock { $0.finished } }

    /// The events after number `after` (0: from the start), then the live ones. A new
    /// subscriber replaces the previous one: one connection per stream, as the spec asks
    /// (a message is never sent on two streams).
    ///
    /// `regenerated`: events `after + 1 …` made again from their origins (``missingOrigins(after:)``),
    /// sent before the buffered ones.
    ///
    /// - Returns: nil when events after `after` (and `regenerated`) have already left the replay buffer.
    func subscribe(after: Int, regenerated: [SSEEvent] = []) -> AsyncStream<SSEEvent>? {
        let (stream, continuation) = AsyncStream.makeStream(of: SSEEvent.self)
        let buffered = after + regenerated.count
        let result: (ok: Bool, previous: AsyncStream<SSEEvent>.Continuation?, key: UInt64?) = state.withLock { state in
            if let first = state.buffer.first, first.number > buffered + 1 { return (false, nil, nil) }
            if state.buffer.isEmpty, state.nextNumber > buffered + 1 { return (false, nil, nil) }
            for event in regenerated { continuation.yield(event) }
            for entry in state.buffer where entry.number > buffered { continuation.yield(entry.event) }
            state.lastYielded = state.nextNumber - 1
            if state.finished {
                continuation.finish()
                return (true, nil, nil)
            }
            let previous = state.subscriber?.continuation
            let key = state.nextKey
            state.nextKey += 1
            state.subscriber = (key, continuation)
            return (true, previous, key)
        }
        guard result.ok else { return nil }
        result.previous?.finish()
        if let key = result.key {
            continuation.onTermination = { [weak self] _ in
                self?.state.withLock { state in
                    if state.subscriber?.key == key { state.subscriber = nil }
                }
            }
        }
        return stream
    }

    /// The origins of the events after `after` that have left the buffer (numbers `after + 1 …`),
    /// in order; nil when the stream records none, or `after` is not an event of it.
    func missingOrigins(after: Int) -> ArraySlice<Origin>? {
        state.withLock { state in
            guard recordsOrigins, after >= 0, after < state.nextNumber else { return nil }
            let firstBuffered = state.buffer.first?.number ?? state.nextNumber
            guard firstBuffered > after + 1 else { return [] }
            return state.origins[after..<(firstBuffered - 1)]
        }
    }

    /// The last event number handed to a client (where a new connection without `Last-Event-ID` starts).
    var lastYielded: Int { state.withLock { $0.lastYielded } }

    /// Parses `<stream>_<n>`.
    static func parse(eventID: String) -> (stream: Int, number: Int)? {
        let parts = eventID.split(separator: "_")
        guard parts.count == 2, let stream = Int(parts[0]), let number = Int(parts[1]) else { return nil }
        return (stream, number)
    }
}

/// Sends a session's messages into one of its resumable streams as SSE events.
struct StreamOutbound: MCPOutbound {
    let stream: ResumableStream

    func send(_ message: JSONRPCMessage) async {
        stream.append(data: message.serialized, event: "message")
    }

    /// A notification rendered from a run event, noted so it can be rendered again.
    func send(_ message: JSONRPCMessage, renderedFrom origin: RenderedOrigin) {
        stream.append(data: message.serialized, event: "message", origin: origin)
    }
}

/// What an MCP notification of a `tools/call` was rendered from: the run's event `seq` and,
/// for a `notifications/progress`, its token and value (nil: a `notifications/message`).
struct RenderedOrigin: Sendable {
    var runID: String
    var seq: Int
    var progressToken: JSONValue?
    var progress: Int?
}
