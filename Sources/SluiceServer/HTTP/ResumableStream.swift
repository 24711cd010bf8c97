import SluiceJSON
import Synchronization

/// One SSE stream of an MCP session (a POST's answer, or the GET stream), resumable with
/// `Last-Event-ID`: it numbers its events and keeps the last `capacity` of them for replay.
///
/// Event ids are unique across the session's streams, so a `Last-Event-ID` names the stream to
/// resume as well as the position in it: `<stream>_<n>` (the n-th event), or, on a stream that
/// records origins (a `tools/call` with a durable store), `<stream>_<seq>_<k>` (see
/// ``RunPosition``): the k-th message rendered from run event `seq`, so the id can be made
/// again from the run's stored events alone, even after a server restart.
final class ResumableStream: Sendable {
    let streamID: Int
    let capacity: Int
    /// Whether the stream notes how to make each event again after it left the buffer
    /// (``Origin``), and names its events by ``RunPosition``: a `tools/call` stream of a server
    /// with a durable store.
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
        /// With `recordsOrigins`: the id of event number `i + 1` at index `i`.
        var ids: [String] = []
        /// With `recordsOrigins`: the position of the last event appended.
        var lastPosition = RunPosition.start
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

    /// Appends a message not rendered from the run (kept whole when origins are recorded),
    /// numbering it, and hands it to the connected client if any.
    func append(data: String, event: String? = nil) {
        let (events, subscriber) = state.withLock { state in
            let position = RunPosition(seq: state.lastPosition.seq, index: state.lastPosition.index + 1)
            let sse = add(data: data, event: event, position: position, origin: nil, to: &state)
            return ([sse], state.subscriber?.continuation)
        }
        for sse in events { subscriber?.yield(sse) }
    }

    /// Appends the messages rendered from one run event, together (nothing comes between
    /// them, so their positions `seq_0`, `seq_1`… are those a re-rendering gives).
    func append(rendered messages: [(data: String, origin: RenderedOrigin)]) {
        let (events, subscriber) = state.withLock { state in
            let events = messages.enumerated().map { index, message in
                add(data: message.data, event: "message", position: RunPosition(seq: message.origin.seq, index: index), origin: message.origin, to: &state)
            }
            return (events, state.subscriber?.continuation)
        }
        for sse in events { subscriber?.yield(sse) }
    }

    private func add(data: String, event: String?, position: RunPosition, origin: RenderedOrigin?, to state: inout State) -> SSEEvent {
        let id = recordsOrigins ? position.eventID(stream: streamID) : "\(streamID)_\(state.nextNumber)"
        let sse = SSEEvent(id: id, event: event, data: data)
        if recordsOrigins {
            state.origins.append(origin.map(Origin.rendered) ?? .kept(sse))
            state.ids.append(id)
            state.lastPosition = position
        }
        state.buffer.append((state.nextNumber, sse))
        state.nextNumber += 1
        if state.buffer.count > capacity { state.buffer.removeFirst(state.buffer.count - capacity) }
        if state.subscriber != nil { state.lastYielded = state.nextNumber - 1 }
        return sse
    }

    /// The number of the event with id `eventID` in this stream (0 for none yet); nil when it
    /// names no event of it.
    func number(ofEventID eventID: String) -> Int? {
        if recordsOrigins {
            return state.withLock { state in
                if let index = state.ids.lastIndex(of: eventID) { return index + 1 }
                return nil
            }
        }
        guard let (stream, number) = Self.parse(eventID: eventID), stream == streamID else { return nil }
        return number
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
    func missingOrigins(after: Int) -> [(id: String, origin: Origin)]? {
        state.withLock { state in
            guard recordsOrigins, after >= 0, after < state.nextNumber else { return nil }
            let firstBuffered = state.buffer.first?.number ?? state.nextNumber
            guard firstBuffered > after + 1 else { return [] }
            return Array(zip(state.ids[after..<(firstBuffered - 1)], state.origins[after..<(firstBuffered - 1)]))
        }
    }

    /// The last event number handed to a client (where a new connection without `Last-Event-ID` starts).
    var lastYielded: Int { state.withLock { $0.lastYielded } }

    /// Parses `<stream>_<n>`.
    static func parse(eventID: String) -> (stream: Int, number: Int)? {
        let parts = eventID.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 2, let stream = Int(parts[0]), let number = Int(parts[1]) else { return nil }
        return (stream, number)
    }

    /// The stream an event id of either form names.
    static func streamID(ofEventID eventID: String) -> Int? {
        let parts = eventID.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3 else { return nil }
        return Int(parts[0])
    }
}

/// Sends a session's messages into one of its resumable streams as SSE events.
struct StreamOutbound: MCPOutbound {
    let stream: ResumableStream
    /// Records which run a `tools/call` stream renders (a durable server keeps it for a restart).
    var onBind: (@Sendable (CallStreamBinding) async -> Void)?

    init(stream: ResumableStream, onBind: (@Sendable (CallStreamBinding) async -> Void)? = nil) {
        self.stream = stream
        self.onBind = onBind
    }

    /// The call answered on this stream started `binding.runID`.
    func bind(_ binding: CallStreamBinding) async {
        await onBind?(binding)
    }

    func send(_ message: JSONRPCMessage) async {
        stream.append(data: message.serialized, event: "message")
    }

    /// The notifications rendered from one run event, noted so they can be rendered again.
    func send(_ messages: [JSONRPCMessage], renderedFrom origin: RenderedOrigin, progress: [Int?]) {
        stream.append(rendered: zip(messages, progress).map { message, progress in
            (message.serialized, RenderedOrigin(runID: origin.runID, seq: origin.seq, progressToken: origin.progressToken, progress: progress))
        })
    }
}

/// Where an event of a call stream stands: the `index`-th message rendered from run event
/// `seq` (messages not rendered from the run, such as the priming event, requests to the
/// client and the response, take the next index after the last event). Ids `<stream>_<seq>_<index>`
/// are strictly increasing along a stream.
struct RunPosition: Sendable, Comparable {
    var seq: Int
    var index: Int

    /// Before anything: the priming event is `0_0`.
    static let start = RunPosition(seq: 0, index: -1)

    func eventID(stream: Int) -> String { "\(stream)_\(seq)_\(index)" }

    /// Parses `<stream>_<seq>_<index>`.
    static func parse(eventID: String) -> (stream: Int, position: RunPosition)? {
        let parts = eventID.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 3, let stream = Int(parts[0]), let seq = Int(parts[1]), let index = Int(parts[2]), seq >= 0, index >= 0 else {
            return nil
        }
        return (stream, RunPosition(seq: seq, index: index))
    }

    static func < (lhs: RunPosition, rhs: RunPosition) -> Bool {
        (lhs.seq, lhs.index) < (rhs.seq, rhs.index)
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

/// The run a `tools/call` stream renders, and how: what a server needs to send the stream
/// again from the run's stored events (``SluiceStore/StoredMCPStream``).
struct CallStreamBinding: Sendable {
    var runID: String
    var requestID: JSONValue
    var progressToken: JSONValue?
    var logLevel: MCPLogLevel
}
