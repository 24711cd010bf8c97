public import Foundation
import PostgresNIO
public import SluiceJSON
public import SluiceStore

/// MCP sessions and their call streams (``MCPSessionStore``), and the response cache
/// (``ResponseCache``): shared by every replica on the database.
extension PostgresRunStore {
    public func saveMCPSession(_ session: StoredMCPSession) async throws(StoreError) {
        let capabilities = session.clientCapabilities.serialized()
        let info = session.clientInfo.serialized()
        try await write("record MCP session \(session.id)") { db in
            try await db.execute("""
                INSERT INTO mcp_sessions (id, user_name, protocol_version, client_capabilities, client_info, initialized, log_level, next_stream_id, saved_at)
                VALUES (\(session.id), \(session.user), \(session.protocolVersion), \(capabilities), \(info), \(session.initialized),
                    \(session.logLevel), \(session.nextStreamID), \(session.savedAt.timeIntervalSince1970))
                ON CONFLICT (id) DO UPDATE SET
                    protocol_version = excluded.protocol_version, client_capabilities = excluded.client_capabilities,
                    client_info = excluded.client_info, initialized = excluded.initialized, log_level = excluded.log_level,
                    next_stream_id = GREATEST(mcp_sessions.next_stream_id, excluded.next_stream_id), saved_at = excluded.saved_at
                """)
        }
    }

    public func mcpSession(id: String) async throws(StoreError) -> StoredMCPSession? {
        try await read("read MCP session \(id)") { db in
            guard let row = try await db.rows("SELECT * FROM mcp_sessions WHERE id = \(id)").first else { return nil }
            return StoredMCPSession(
                id: try row["id"].decode(String.self), user: try row["user_name"].decode(String.self),
                protocolVersion: try row["protocol_version"].decode(String.self),
                clientCapabilities: try Self.decodeJSON(row["client_capabilities"].decode(String.self), what: "client capabilities of MCP session \(id)")
                    ?? .object(JSONObject()),
                clientInfo: try Self.decodeJSON(row["client_info"].decode(String.self), what: "client info of MCP session \(id)") ?? .null,
                initialized: try row["initialized"].decode(Bool.self), logLevel: try row["log_level"].decode(String.self),
                nextStreamID: try row["next_stream_id"].decode(Int.self),
                savedAt: Date(timeIntervalSince1970: try row["saved_at"].decode(Double.self)))
        }
    }

    public func deleteMCPSession(id: String) async throws(StoreError) {
        try await write("forget MCP session \(id)") { db in
            try await db.execute("DELETE FROM mcp_sessions WHERE id = \(id)")
        }
    }

    public func deleteMCPSessions(savedBefore date: Date) async throws(StoreError) -> Int {
        try await write("forget idle MCP sessions") { db in
            try await db.rows("""
                WITH deleted AS (
                    DELETE FROM mcp_sessions WHERE saved_at < \(date.timeIntervalSince1970) AND NOT EXISTS (
                        SELECT 1 FROM mcp_streams JOIN runs ON runs.id = mcp_streams.run_id
                        WHERE mcp_streams.session_id = mcp_sessions.id AND runs.status = 'running')
                    RETURNING 1)
                SELECT count(*)::bigint AS n FROM deleted
                """).first?["n"].decode(Int.self) ?? 0
        }
    }

    /// Counts and inserts in one transaction under the user's advisory lock (the two-key
    /// space `sessionLockSpace`, `hashtext(user)`), as runs are admitted (see
    /// ``admitRun(_:as:limits:)``): two replicas creating sessions of one user take turns, so
    /// the count cannot be passed; other users' sessions go on in parallel.
    public func createMCPSession(_ session: StoredMCPSession, limit: Int, liveSince: Date) async throws(StoreError) -> Int? {
        let capabilities = session.clientCapabilities.serialized()
        let info = session.clientInfo.serialized()
        return try await write("record MCP session \(session.id)") { db -> Int? in
            try await db.execute("SELECT pg_advisory_xact_lock(\(Self.sessionLockSpace), hashtext(\(session.user)))")
            let held = try await db.rows("""
                SELECT count(*) AS n FROM mcp_sessions WHERE user_name = \(session.user) AND (saved_at >= \(liveSince.timeIntervalSince1970) OR EXISTS (
                    SELECT 1 FROM mcp_streams JOIN runs ON runs.id = mcp_streams.run_id
                    WHERE mcp_streams.session_id = mcp_sessions.id AND runs.status = 'running'))
                """).first?["n"].decode(Int.self) ?? 0
            if held >= limit { return held }
            try await db.execute("""
                INSERT INTO mcp_sessions (id, user_name, protocol_version, client_capabilities, client_info, initialized, log_level, next_stream_id, saved_at)
                VALUES (\(session.id), \(session.user), \(session.protocolVersion), \(capabilities), \(info), \(session.initialized),
                    \(session.logLevel), \(session.nextStreamID), \(session.savedAt.timeIntervalSince1970))
                """)
            return nil
        }
    }

    /// The advisory lock space of per-user session admission ("slm"; apart from the runs' "slu").
    static let sessionLockSpace: Int32 = 0x736C6D

    public func saveMCPStream(_ stream: StoredMCPStream) async throws(StoreError) {
        try await write("record stream \(stream.streamID) of MCP session \(stream.sessionID)") { db in
            try await db.execute("""
                INSERT INTO mcp_streams (session_id, stream_id, request_id, run_id, progress_token, log_level)
                VALUES (\(stream.sessionID), \(stream.streamID), \(stream.requestID), \(stream.runID), \(stream.progressToken), \(stream.logLevel))
                ON CONFLICT (session_id, stream_id) DO UPDATE SET request_id = excluded.request_id, run_id = excluded.run_id,
                    progress_token = excluded.progress_token, log_level = excluded.log_level
                """)
        }
    }

    public func mcpStream(sessionID: String, streamID: Int) async throws(StoreError) -> StoredMCPStream? {
        try await read("read stream \(streamID) of MCP session \(sessionID)") { db in
            try await db.rows("SELECT * FROM mcp_streams WHERE session_id = \(sessionID) AND stream_id = \(streamID)").first.map { row in
                StoredMCPStream(
                    sessionID: try row["session_id"].decode(String.self), streamID: try row["stream_id"].decode(Int.self),
                    requestID: try row["request_id"].decode(String.self), runID: try row["run_id"].decode(String.self),
                    progressToken: try row["progress_token"].decode(String?.self), logLevel: try row["log_level"].decode(String.self))
            }
        }
    }

    // MARK: Response cache

    public func cachedResponse(kind: ProviderCall.Kind, request: String, now: Date) async throws(StoreError) -> JSONValue? {
        let hash = ContentHash.hex(of: request)
        return try await read("read the response cache") { db in
            let row = try await db.rows("""
                SELECT response FROM response_cache
                WHERE kind = \(kind.rawValue) AND request_hash = \(hash) AND request = \(request)
                    AND (expires_at IS NULL OR expires_at > \(now.timeIntervalSince1970))
                """).first
            return try row.flatMap { try Self.decodeJSON($0["response"].decode(String.self), what: "cached \(kind.rawValue) response") }
        }
    }

    public func storeResponse(kind: ProviderCall.Kind, request: String, response: JSONValue, expiresAt: Date?) async throws(StoreError) {
        let text = response.serialized()
        let hash = ContentHash.hex(of: request)
        try await write("write the response cache") { db in
            try await db.execute("""
                INSERT INTO response_cache (kind, request_hash, request, response, created_at, expires_at)
                VALUES (\(kind.rawValue), \(hash), \(request), \(text), \(Date().timeIntervalSince1970), \(expiresAt?.timeIntervalSince1970))
                ON CONFLICT (kind, request_hash) DO UPDATE SET request = excluded.request, response = excluded.response,
                    created_at = excluded.created_at, expires_at = excluded.expires_at
                """)
        }
    }

    public func clearCache() async throws(StoreError) -> Int {
        try await write("clear the response cache") { db in
            try await db.rows("WITH deleted AS (DELETE FROM response_cache RETURNING 1) SELECT count(*)::bigint AS n FROM deleted")
                .first?["n"].decode(Int.self) ?? 0
        }
    }
}
