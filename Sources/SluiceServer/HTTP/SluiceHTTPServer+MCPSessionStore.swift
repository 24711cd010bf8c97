import Foundation
import HTTPTypes
import Hummingbird
import SluiceEngine
import SluiceJSON
import SluiceRunLog
import SluiceStore
import Synchronization

/// MCP sessions that outlive the server process: with a durable store, each session (as
/// negotiated) and each `tools/call` stream's run are kept, so after a restart the old
/// `MCP-Session-Id` is taken up again and `GET /mcp` with a `Last-Event-ID` of a call stream
/// renders that stream again from the run's stored events, follows the run (which the server
/// resumed), and ends with the call's response.
extension SluiceHTTPServer {
    /// Where sessions are kept: the opened store, when it keeps them (both backends do).
    var sessionStore: (any MCPSessionStore)? {
        openedStore?.mcpSessions
    }

    /// The session `id` of a stopped server, taken up again for `user` (nil: unknown, or another user's).
    ///
    /// - Throws: ``StoreError`` when the store cannot be read.
    func restoredSession(id: String, user: String) async throws(StoreError) -> MCPHTTPSessions.Entry? {
        guard let store = sessionStore, let stored = try await store.mcpSession(id: id), stored.user == user else { return nil }
        let entry = mcpSessions.restore(stored, server: mcp)
        // The GET stream took the next stream id: keep that, so no id is handed out twice.
        await saveSession(entry)
        return entry
    }

    /// Whether a new session may be kept (see ``admitSession(_:)``).
    enum SessionAdmission {
        case admitted
        /// Its user holds ``ServingLimits/sessionsPerUser`` sessions already.
        case refused
        case storeFailed(String)
    }

    /// Records the new session `entry` in the store, unless its user already holds
    /// ``ServingLimits/sessionsPerUser`` sessions there — on any server sharing the store, so
    /// a user at the limit on one replica is refused on another. A session counts until it is
    /// ended or expires; one a stopped server left counts until the store's sweep would
    /// forget it (idle for the timeout plus the five minutes a saved time may lag). A refused
    /// session is forgotten here. Without a store it is admitted (this process counted it).
    func admitSession(_ entry: MCPHTTPSessions.Entry) async -> SessionAdmission {
        guard let store = sessionStore, let (snapshot, nextStreamID) = entry.unsaved() else { return .admitted }
        let now = Date()
        let stored = StoredMCPSession(
            id: entry.id, user: entry.user, protocolVersion: snapshot.protocolVersion, clientCapabilities: .object(snapshot.clientCapabilities),
            clientInfo: snapshot.clientInfo, initialized: snapshot.initialized, logLevel: snapshot.logLevel.rawValue,
            nextStreamID: nextStreamID, savedAt: now)
        let outcome: SessionAdmission
        do {
            let held = try await store.createMCPSession(stored, limit: configuration.limits.sessionsPerUser, liveSince: sessionSweepCutoff(now: now))
            outcome = held == nil ? .admitted : .refused
        } catch {
            outcome = .storeFailed(error.message)
        }
        if case .admitted = outcome { return outcome }
        _ = mcpSessions.remove(entry.id)
        entry.session.close(reason: "the session was not admitted")
        entry.getStream.finish()
        return outcome
    }

    /// Sessions saved before this are the store's to forget (see ``expireMCPSessions(now:)``):
    /// a live session's saved time lags its last activity by up to five minutes (see
    /// `MCPHTTPSessions.Entry.unsaved`), so it gets that much more than the idle timeout.
    func sessionSweepCutoff(now: Date) -> Date {
        now.addingTimeInterval(-Double(configuration.sessionIdleTimeout.components.seconds) - 300)
    }

    /// Keeps the session's state in the store when it changed since it was last kept.
    /// A failure is reported on stderr: the session works on, but would not survive a restart.
    func saveSession(_ entry: MCPHTTPSessions.Entry) async {
        guard let store = sessionStore, let (snapshot, nextStreamID) = entry.unsaved() else { return }
        let now = Date()
        let stored = StoredMCPSession(
            id: entry.id, user: entry.user, protocolVersion: snapshot.protocolVersion, clientCapabilities: .object(snapshot.clientCapabilities),
            clientInfo: snapshot.clientInfo, initialized: snapshot.initialized, logLevel: snapshot.logLevel.rawValue,
            nextStreamID: nextStreamID, savedAt: now)
        do {
            try await store.saveMCPSession(stored)
            entry.saved(snapshot, nextStreamID: nextStreamID, at: now)
        } catch {
            Self.report("MCP session \(entry.id) could not be kept in the store (it will not survive a restart): \(error.message)")
        }
    }

    /// Forgets a session in the store (ended by the client, or expired).
    func forgetSession(_ id: String) async {
        guard let store = sessionStore else { return }
        do {
            try await store.deleteMCPSession(id: id)
        } catch {
            Self.report("MCP session \(id) could not be removed from the store: \(error.message)")
        }
    }

    /// Ends the idle sessions, in memory and in the store (with those a stopped server left
    /// that nobody took up again).
    func expireMCPSessions(now: Date = Date()) async {
        let timeout = configuration.sessionIdleTimeout
        for id in mcpSessions.expiredSessions(timeout: timeout, now: now) { await forgetSession(id) }
        guard let store = sessionStore else { return }
        do {
            _ = try await store.deleteMCPSessions(savedBefore: sessionSweepCutoff(now: now))
        } catch {
            Self.report("idle MCP sessions could not be removed from the store: \(error.message)")
        }
    }

    /// What a `tools/call` stream of `entry` records when its run starts.
    func callBinder(entry: MCPHTTPSessions.Entry, streamID: Int) -> (@Sendable (CallStreamBinding) async -> Void)? {
        guard let store = sessionStore else { return nil }
        return { binding in
            let stored = StoredMCPStream(
                sessionID: entry.id, streamID: streamID, requestID: binding.requestID.serialized(pretty: false), runID: binding.runID,
                progressToken: binding.progressToken?.serialized(pretty: false), logLevel: binding.logLevel.rawValue)
            do throws(StoreError) {
                try await store.saveMCPStream(stored)
            } catch {
                Self.report("stream \(streamID) of MCP session \(entry.id) could not be kept in the store (it cannot be resumed after a restart): \(error.message)")
            }
        }
    }

    /// The events of a kept call stream after `position`, rendered from its run's stored
    /// events as they were first sent, then the run's later events as the store gets them, then
    /// the call's response; nil when the stream is not kept.
    ///
    /// - Throws: ``StoreError`` when the store cannot be read.
    func storedCallStream(entry: MCPHTTPSessions.Entry, streamID: Int, after position: RunPosition) async throws(StoreError) -> AsyncStream<SSEEvent>? {
        guard let sessions = sessionStore, let runs = durableStore,
            let binding = try await sessions.mcpStream(sessionID: entry.id, streamID: streamID)
        else { return nil }
        let feed = StoredCallFeed(
            binding: binding, store: runs, wakeups: openedStore?.wakeups, after: position, resumeWait: configuration.interruptedRunWait,
            safetyPoll: configuration.storeFollowPoll, openRequest: OpenRequest(entry))
        return AsyncStream(unfolding: { await feed.next() })
    }

    static func report(_ message: String) {
        FileHandle.standardError.write(Data("sluice serve: \(message)\n".utf8))
    }
}

/// A kept `tools/call` stream made again from the store: the run's events rendered as the call
/// rendered them (same level, same progress token, so the same messages at the same
/// ``RunPosition``s), those after the client's `Last-Event-ID`, then the response.
///
/// Messages that were not rendered from the run (requests to the client) are not made again.
private final class StoredCallFeed: Sendable {
    let binding: StoredMCPStream
    let store: any RunStore
    let events: StoredEventFeed
    /// Keeps the session from expiring while the stream is open.
    let openRequest: OpenRequest
    private let state: Mutex<State>

    private struct State {
        var renderer: MCPEventRenderer
        var pending: [SSEEvent] = []
        /// The last position sent, or the client's `Last-Event-ID`.
        var last: RunPosition
        var ended = false
    }

    init(
        binding: StoredMCPStream, store: any RunStore, wakeups: (any RunEventWakeups)?, after position: RunPosition, resumeWait: Duration,
        safetyPoll: Duration,
        openRequest: OpenRequest
    ) {
        self.binding = binding
        self.store = store
        self.openRequest = openRequest
        // From the first event: progress values count the steps finished since the start.
        events = StoredEventFeed(store: store, wakeups: wakeups, runID: binding.runID, after: 0, resumeWait: resumeWait, safetyPoll: safetyPoll)
        let token = binding.progressToken.flatMap { Self.json($0, what: "progress token") }
        state = Mutex(State(renderer: MCPEventRenderer(progressToken: token), last: position))
    }

    func next() async -> SSEEvent? {
        let level = MCPLogLevel(rawValue: binding.logLevel) ?? .info
        while true {
            let (ready, ended) = state.withLock { state -> (SSEEvent?, Bool) in
                state.pending.isEmpty ? (nil, state.ended) : (state.pending.removeFirst(), state.ended)
            }
            if let ready { return ready }
            if ended { return nil }
            guard let event = await events.next() else {
                // The log ended: the run no longer runs. Answer the call, unless the run never
                // ended (interrupted and not resumed): then the client may come back later.
                state.withLock { $0.ended = true }
                return await response()
            }
            state.withLock { state in
                for (index, rendered) in state.renderer.renderedNotifications(for: event, minimumLevel: level).enumerated() {
                    let position = RunPosition(seq: event.seq, index: index)
                    guard state.last < position else { continue }
                    state.last = position
                    state.pending.append(SSEEvent(id: position.eventID(stream: binding.streamID), event: "message", data: rendered.message.serialized))
                }
            }
        }
    }

    /// The call's JSON-RPC response, built as a live call builds it, after the last event sent.
    private func response() async -> SSEEvent? {
        let run: StoredRun?
        do {
            run = try await store.run(id: binding.runID)
        } catch {
            SluiceHTTPServer.report("the end of run \(binding.runID) could not be read for its MCP response: \(error.message)")
            return nil
        }
        guard let run, let result = Self.result(of: run) else { return nil }
        let id = Self.json(binding.requestID, what: "request id") ?? .null
        let message: JSONRPCMessage =
            switch MCPSession.toolResult(result) {
            case .success(let value): .result(id: id, result: value)
            case .failure(let error): .error(id: id, error: error)
            }
        let last = state.withLock { $0.last }
        let position = RunPosition(seq: last.seq, index: last.index + 1)
        return SSEEvent(id: position.eventID(stream: binding.streamID), event: "message", data: message.serialized)
    }

    /// How a stored run ended, as the run manager reports it; nil while it has not ended.
    static func result(of run: StoredRun) -> RunResult? {
        RunResult(stored: run)
    }

    private static func json(_ text: String, what: String) -> JSONValue? {
        do {
            return try JSONParser.parse(text)
        } catch {
            SluiceHTTPServer.report("the stored \(what) '\(text)' is not JSON: \(error.message)")
            return nil
        }
    }
}

/// A session's request that is open for as long as this object lives: a session does not
/// expire while one of its streams is being sent (the stream's feed holds it; when the
/// response body ends or the client goes away, the feed is released and so is this).
final class OpenRequest: Sendable {
    let entry: MCPHTTPSessions.Entry

    init(_ entry: MCPHTTPSessions.Entry) {
        self.entry = entry
        entry.requestStarted()
    }

    deinit { entry.requestEnded() }
}
