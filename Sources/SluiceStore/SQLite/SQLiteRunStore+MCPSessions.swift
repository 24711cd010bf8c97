public import Foundation
import GRDB
import SluiceJSON

/// MCP sessions and their call streams (``MCPSessionStore``), beside the runs they started.
extension SQLiteRunStore {
    public func saveMCPSession(_ session: StoredMCPSession) async throws(StoreError) {
        let capabilities = session.clientCapabilities.serialized()
        let info = session.clientInfo.serialized()
        try await write("record MCP session \(session.id)") { db in
            try db.execute(
                sql: """
                    INSERT INTO mcp_sessions (id, user, protocol_version, client_capabilities, client_info, initialized, log_level, next_stream_id, saved_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET
                        protocol_version = excluded.protocol_version, client_capabilities = excluded.client_capabilities,
                        client_info = excluded.client_info, initialized = excluded.initialized, log_level = excluded.log_level,
                        next_stream_id = MAX(next_stream_id, excluded.next_stream_id), saved_at = excluded.saved_at
                    """,
                arguments: [
                    session.id, session.user, session.protocolVersion, capabilities, info, session.initialized, session.logLevel,
                    session.nextStreamID, session.savedAt.timeIntervalSince1970,
                ])
        }
    }

    public func mcpSession(id: String) async throws(StoreError) -> StoredMCPSession? {
        try await read("read MCP session \(id)") { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM mcp_sessions WHERE id = ?", arguments: [id]) else { return nil }
            return StoredMCPSession(
                id: row["id"], user: row["user"], protocolVersion: row["protocol_version"],
                clientCapabilities: try Self.decodeJSON(row["client_capabilities"], what: "client capabilities of MCP session \(id)") ?? .object(JSONObject()),
                clientInfo: try Self.decodeJSON(row["client_info"], what: "client info of MCP session \(id)") ?? .null,
                initialized: row["initialized"], logLevel: row["log_level"], nextStreamID: row["next_stream_id"],
                savedAt: Date(timeIntervalSince1970: row["saved_at"]))
        }
    }

    public func deleteMCPSession(id: String) async throws(StoreError) {
        try await write("forget MCP session \(id)") { db in
            try db.execute(sql: "DELETE FROM mcp_sessions WHERE id = ?", arguments: [id])
        }
    }

    public func deleteMCPSessions(savedBefore date: Date) async throws(StoreError) -> Int {
        try await write("forget idle MCP sessions") { db in
            try db.execute(
                sql: """
                    DELETE FROM mcp_sessions WHERE saved_at < ? AND NOT EXISTS (
                        SELECT 1 FROM mcp_streams JOIN runs ON runs.id = mcp_streams.run_id
                        WHERE mcp_streams.session_id = mcp_sessions.id AND runs.status = 'running')
                    """,
                arguments: [date.timeIntervalSince1970])
            return db.changesCount
        }
    }

    /// One process writes at a time (a write transaction): the count and the insert cannot
    /// interleave with another server's on the same file.
    public func createMCPSession(_ session: StoredMCPSession, limit: Int, liveSince: Date) async throws(StoreError) -> Int? {
        let capabilities = session.clientCapabilities.serialized()
        let info = session.clientInfo.serialized()
        return try await write("record MCP session \(session.id)") { db -> Int? in
            let held = try Int.fetchOne(
                db,
                sql: """
                    SELECT count(*) FROM mcp_sessions WHERE user = ? AND (saved_at >= ? OR EXISTS (
                        SELECT 1 FROM mcp_streams JOIN runs ON runs.id = mcp_streams.run_id
                        WHERE mcp_streams.session_id = mcp_sessions.id AND runs.status = 'running'))
                    """,
                arguments: [session.user, liveSince.timeIntervalSince1970]) ?? 0
            if held >= limit { return held }
            try db.execute(
                sql: """
                    INSERT INTO mcp_sessions (id, user, protocol_version, client_capabilities, client_info, initialized, log_level, next_stream_id, saved_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    session.id, session.user, session.protocolVersion, capabilities, info, session.initialized, session.logLevel,
                    session.nextStreamID, session.savedAt.timeIntervalSince1970,
                ])
            return nil
        }
    }

    public func saveMCPStream(_ stream: StoredMCPStream) async throws(StoreError) {
        try await write("record stream \(stream.streamID) of MCP session \(stream.sessionID)") { db in
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO mcp_streams (session_id, stream_id, request_id, run_id, progress_token, log_level)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [stream.sessionID, stream.streamID, stream.requestID, stream.runID, stream.progressToken, stream.logLevel])
        }
    }

    public func mcpStream(sessionID: String, streamID: Int) async throws(StoreError) -> StoredMCPStream? {
        try await read("read stream \(streamID) of MCP session \(sessionID)") { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM mcp_streams WHERE session_id = ? AND stream_id = ?", arguments: [sessionID, streamID]
            ).map { row in
                StoredMCPStream(
                    sessionID: row["session_id"], streamID: row["stream_id"], requestID: row["request_id"], runID: row["run_id"],
                    progressToken: row["progress_token"], logLevel: row["log_level"])
            }
        }
    }
}
