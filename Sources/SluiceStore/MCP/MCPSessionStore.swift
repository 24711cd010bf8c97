public import Foundation
public import SluiceJSON

/// Where a server keeps what it needs to recognise an MCP session after a restart: the
/// session as negotiated, and which run each of its `tools/call` streams renders.
///
/// Only streamable-HTTP sessions of a server with a durable store are kept. Like ``RunStore``,
/// every type is ours and every method async, so a PostgreSQL store shared by several servers
/// can implement it too. ``SQLiteRunStore`` keeps them beside the runs.
///
/// ```swift
/// try await store.saveMCPSession(StoredMCPSession(id: sessionID, user: "alice", protocolVersion: "2025-11-25"))
/// try await store.saveMCPStream(StoredMCPStream(sessionID: sessionID, streamID: 1, requestID: "2", runID: runID))
/// let binding = try await store.mcpStream(sessionID: sessionID, streamID: 1)
/// ```
///
/// #### Errors
/// ``StoreError`` as for ``RunStore``; `conflict` when a stream's session is not stored.
public protocol MCPSessionStore: Sendable {
    /// Records a session, or replaces what was recorded for its id.
    func saveMCPSession(_ session: StoredMCPSession) async throws(StoreError)
    func mcpSession(id: String) async throws(StoreError) -> StoredMCPSession?
    /// Forgets a session and its streams (the client ended it, or it expired).
    func deleteMCPSession(id: String) async throws(StoreError)
    /// Forgets the sessions last saved before `date`, except those with a stream whose run is
    /// still running (a session never expires while one of its calls runs); returns how many.
    func deleteMCPSessions(savedBefore date: Date) async throws(StoreError) -> Int
    /// Records a new session unless its user already holds `limit` sessions, counted in the
    /// store (so across every server sharing it) as one step that servers creating sessions
    /// at once cannot interleave. A session counts until it is deleted (ended or expired) or,
    /// once saved before `liveSince`, could be by ``deleteMCPSessions(savedBefore:)`` (no
    /// call of it still runs): a session its server left behind stops counting when a sweep
    /// would forget it. Returns nil when recorded; else how many the user holds (nothing recorded).
    func createMCPSession(_ session: StoredMCPSession, limit: Int, liveSince: Date) async throws(StoreError) -> Int?

    /// Records which run a `tools/call` stream of a stored session renders.
    func saveMCPStream(_ stream: StoredMCPStream) async throws(StoreError)
    func mcpStream(sessionID: String, streamID: Int) async throws(StoreError) -> StoredMCPStream?
}

/// An MCP session as negotiated at `initialize`, with what it chose since.
public struct StoredMCPSession: Sendable, Equatable {
    /// The `MCP-Session-Id`.
    public var id: String
    /// Who owns it (the API-key user); nobody else may resume it.
    public var user: String
    public var protocolVersion: String
    /// The client's `capabilities` (an object) and `clientInfo`, as sent.
    public var clientCapabilities: JSONValue
    public var clientInfo: JSONValue
    /// Whether `notifications/initialized` came.
    public var initialized: Bool
    /// The `logging/setLevel` level (its name).
    public var logLevel: String
    /// The next stream id the session hands out: ids stay unique across a restart.
    public var nextStreamID: Int
    public var savedAt: Date

    public init(
        id: String, user: String, protocolVersion: String, clientCapabilities: JSONValue = .object(JSONObject()),
        clientInfo: JSONValue = .null, initialized: Bool = false, logLevel: String = "info", nextStreamID: Int = 1,
        savedAt: Date = Date()
    ) {
        self.id = id
        self.user = user
        self.protocolVersion = protocolVersion
        self.clientCapabilities = clientCapabilities
        self.clientInfo = clientInfo
        self.initialized = initialized
        self.logLevel = logLevel
        self.nextStreamID = nextStreamID
        self.savedAt = savedAt
    }
}

/// A `tools/call` stream bound to the run it renders: with the run's stored events, this is
/// all it takes to send the stream's notifications again, and its response at the end.
public struct StoredMCPStream: Sendable, Equatable {
    public var sessionID: String
    public var streamID: Int
    /// The JSON-RPC id of the `tools/call`, serialized as JSON (`2`, `"abc"`).
    public var requestID: String
    public var runID: String
    /// The call's `_meta.progressToken`, serialized as JSON (nil: no progress notifications).
    public var progressToken: String?
    /// The level below which the call's `notifications/message` are not sent (its name).
    public var logLevel: String

    public init(sessionID: String, streamID: Int, requestID: String, runID: String, progressToken: String? = nil, logLevel: String = "info") {
        self.sessionID = sessionID
        self.streamID = streamID
        self.requestID = requestID
        self.runID = runID
        self.progressToken = progressToken
        self.logLevel = logLevel
    }
}
