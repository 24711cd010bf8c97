import Foundation
import SluiceJSON
import SluiceStore
import Synchronization

/// The MCP sessions of the streamable-HTTP endpoint, by `MCP-Session-Id`.
///
/// Each session has a GET stream (for messages tied to no request) and one resumable stream per
/// POSTed request. Idle sessions expire, but never while a call or task of theirs is running.
/// With a durable store, a session of a stopped server is taken up again (``restore(_:server:)``).
final class MCPHTTPSessions: Sendable {
    final class Entry: Sendable {
        let id: String
        let user: String
        let session: MCPSession
        let getStream: ResumableStream
        private let state: Mutex<EntryState>

        struct EntryState {
            var streams: [Int: ResumableStream] = [:]
            var nextStreamID = 1
            var lastActivity = Date()
            var openRequests = 0
            /// What was last kept in the durable store, and when.
            var saved: (snapshot: MCPSession.Snapshot, nextStreamID: Int, at: Date)?
        }

        /// - Parameter nextStreamID: the id of the first POST stream (after the GET stream's).
        init(id: String, user: String, session: MCPSession, getStream: ResumableStream, nextStreamID: Int = 1) {
            self.id = id
            self.user = user
            self.session = session
            self.getStream = getStream
            self.state = Mutex(EntryState(nextStreamID: nextStreamID))
        }

        var nextStreamID: Int { state.withLock { $0.nextStreamID } }

        /// The session's state when it differs from what was last saved (or that was saved more
        /// than `refresh` ago); nil when there is nothing to save.
        func unsaved(now: Date = Date(), refresh: TimeInterval = 300) -> (snapshot: MCPSession.Snapshot, nextStreamID: Int)? {
            let snapshot = session.snapshot
            return state.withLock { state in
                if let saved = state.saved, saved.snapshot == snapshot, saved.nextStreamID == state.nextStreamID,
                    now.timeIntervalSince(saved.at) < refresh
                {
                    return nil
                }
                return (snapshot, state.nextStreamID)
            }
        }

        /// Notes what was saved.
        func saved(_ snapshot: MCPSession.Snapshot, nextStreamID: Int, at date: Date) {
            state.withLock { $0.saved = (snapshot, nextStreamID, date) }
        }

        func touch() { state.withLock { $0.lastActivity = Date() } }

        /// A new stream for a POSTed request; finished streams beyond `keep` are forgotten.
        func newStream(capacity: Int, keep: Int, recordsOrigins: Bool = false) -> ResumableStream {
            state.withLock { state in
                let stream = ResumableStream(streamID: state.nextStreamID, capacity: capacity, recordsOrigins: recordsOrigins)
                state.streams[state.nextStreamID] = stream
                state.nextStreamID += 1
                let finished = state.streams.filter { $0.value.isFinished }.keys.sorted()
                if finished.count > keep {
                    for id in finished.prefix(finished.count - keep) { state.streams.removeValue(forKey: id) }
                }
                return stream
            }
        }

        func stream(_ id: Int) -> ResumableStream? {
            id == getStream.streamID ? getStream : state.withLock { $0.streams[id] }
        }

        func requestStarted() { state.withLock { $0.openRequests += 1; $0.lastActivity = Date() } }
        func requestEnded() { state.withLock { $0.openRequests -= 1; $0.lastActivity = Date() } }

        /// Whether the session may expire now: idle for `timeout`, no request open, no task running.
        func isExpired(now: Date, timeout: Duration) -> Bool {
            let (last, open) = state.withLock { ($0.lastActivity, $0.openRequests) }
            guard open == 0, !session.hasRunningWork else { return false }
            return now.timeIntervalSince(last) > Double(timeout.components.seconds)
        }
    }

    private let entries = Mutex<[String: Entry]>([:])
    let streamCapacity: Int

    init(streamCapacity: Int) {
        self.streamCapacity = streamCapacity
    }

    /// A new session for `user`; nil when the user already holds `limit` sessions.
    func create(user: String, server: MCPServer, limit: Int = .max) -> Entry? {
        let id = UUID().uuidString.lowercased()
        // Stream 0 is the GET stream; POST streams count from 1.
        let getStream = ResumableStream(streamID: 0, capacity: streamCapacity)
        let session = server.makeSession(user: user, unrelated: StreamOutbound(stream: getStream), sessionID: id)
        let entry = Entry(id: id, user: user, session: session, getStream: getStream)
        let admitted = entries.withLock { entries -> Bool in
            guard entries.values.lazy.filter({ $0.user == user }).count < limit else { return false }
            entries[id] = entry
            return true
        }
        return admitted ? entry : nil
    }

    /// Takes up a session of a stopped server, as it was last saved; the session already
    /// taken up when another request did it first.
    ///
    /// Its GET stream gets a new id (the saved next one), so ids of the old GET stream are not
    /// taken for new events; POST streams count on from there.
    func restore(_ stored: StoredMCPSession, server: MCPServer) -> Entry {
        let getStream = ResumableStream(streamID: stored.nextStreamID, capacity: streamCapacity)
        let session = server.makeSession(user: stored.user, unrelated: StreamOutbound(stream: getStream), sessionID: stored.id)
        var capabilities = JSONObject()
        if case .object(let object) = stored.clientCapabilities { capabilities = object }
        session.restore(MCPSession.Snapshot(
            protocolVersion: stored.protocolVersion, clientCapabilities: capabilities, clientInfo: stored.clientInfo,
            initialized: stored.initialized, logLevel: MCPLogLevel(rawValue: stored.logLevel) ?? server.configuration.defaultLogLevel))
        let entry = Entry(id: stored.id, user: stored.user, session: session, getStream: getStream, nextStreamID: stored.nextStreamID + 1)
        return entries.withLock { entries in
            if let existing = entries[stored.id] { return existing }
            entries[stored.id] = entry
            return entry
        }
    }

    func entry(_ id: String) -> Entry? {
        entries.withLock { $0[id] }
    }

    func remove(_ id: String) -> Entry? {
        entries.withLock { $0.removeValue(forKey: id) }
    }

    /// Ends the sessions idle for longer than `timeout`; returns how many.
    @discardableResult
    func expire(timeout: Duration, now: Date = Date()) -> Int {
        expiredSessions(timeout: timeout, now: now).count
    }

    /// Ends the sessions idle for longer than `timeout`; returns their ids.
    func expiredSessions(timeout: Duration, now: Date = Date()) -> [String] {
        let expired = entries.withLock { entries -> [Entry] in
            let expired = entries.values.filter { $0.isExpired(now: now, timeout: timeout) }
            for entry in expired { entries.removeValue(forKey: entry.id) }
            return expired
        }
        for entry in expired {
            entry.session.close(reason: "the session expired")
            entry.getStream.finish()
        }
        return expired.map(\.id)
    }

    /// Ends every session (shutdown): their GET streams finish, their calls are cancelled.
    func closeAll(reason: String) {
        let all = entries.withLock { entries in
            defer { entries.removeAll() }
            return Array(entries.values)
        }
        for entry in all {
            entry.session.close(reason: reason)
            entry.getStream.finish()
        }
    }

    var count: Int { entries.withLock { $0.count } }
}
