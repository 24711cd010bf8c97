import Foundation
import SluiceEngine
import SluiceJSON
import SluiceRunLog
import SluiceStore
import SluiceStorePostgres
import Testing

/// MCP sessions and their call streams, kept for a server restart: saved and read back whole,
/// replaced on save (the stream counter never goes back), forgotten with their streams, and
/// pruned when idle unless a call of theirs still runs.
@Suite struct MCPSessionStoreTests {
    static func session(_ id: String, nextStreamID: Int = 1, savedAt: Date = Date()) -> StoredMCPSession {
        StoredMCPSession(
            id: id, user: "alice", protocolVersion: "2025-06-18",
            clientCapabilities: ["elicitation": .object(JSONObject()), "experimental": ["x": ["deep": [1, 2]]]],
            clientInfo: ["name": "client", "version": "1.2"], initialized: true, logLevel: "debug", nextStreamID: nextStreamID, savedAt: savedAt)
    }

    @Test(arguments: StoreBackend.all) func sessionsAndStreamsRoundTrip(backend: StoreBackend) async throws {
        let temporary = try await TemporaryStore(backend)
        defer { temporary.remove() }
        let store = temporary.store
        let saved = Self.session("s1", nextStreamID: 4, savedAt: Date(timeIntervalSince1970: 1_700_000_000))
        try await store.saveMCPSession(saved)
        #expect(try await store.mcpSession(id: "s1") == saved)
        #expect(try await store.mcpSession(id: "nope") == nil)

        // A later save replaces the state, but the stream counter never goes back.
        var later = saved
        later.logLevel = "error"
        later.nextStreamID = 2
        try await store.saveMCPSession(later)
        let read = try #require(try await store.mcpSession(id: "s1"))
        #expect(read.logLevel == "error")
        #expect(read.nextStreamID == 4)

        let stream = StoredMCPStream(sessionID: "s1", streamID: 3, requestID: #""call-1""#, runID: "run_a", progressToken: "9", logLevel: "debug")
        try await store.saveMCPStream(stream)
        #expect(try await store.mcpStream(sessionID: "s1", streamID: 3) == stream)
        #expect(try await store.mcpStream(sessionID: "s1", streamID: 2) == nil)
        // A stream of a session that is not kept is refused, not kept alone.
        await #expect(throws: StoreError.self) {
            try await store.saveMCPStream(StoredMCPStream(sessionID: "ghost", streamID: 1, requestID: "1", runID: "run_a"))
        }

        try await store.deleteMCPSession(id: "s1")
        #expect(try await store.mcpSession(id: "s1") == nil)
        #expect(try await store.mcpStream(sessionID: "s1", streamID: 3) == nil)
    }

    @Test(arguments: StoreBackend.all) func idleSessionsArePrunedUnlessACallOfTheirsRuns(backend: StoreBackend) async throws {
        let temporary = try await TemporaryStore(backend)
        defer { temporary.remove() }
        let store = temporary.store
        let old = Date(timeIntervalSinceNow: -7200)
        for id in ["idle", "busy", "finished"] { try await store.saveMCPSession(Self.session(id, savedAt: old)) }
        try await store.saveMCPSession(Self.session("recent"))
        try await store.createRun(StoreHarness.newRun("run_busy"))
        try await store.createRun(StoreHarness.newRun("run_done"))
        try await store.append(StoreHarness.events("run_done", count: 2, end: .runCompleted))
        try await store.saveMCPStream(StoredMCPStream(sessionID: "busy", streamID: 1, requestID: "1", runID: "run_busy"))
        try await store.saveMCPStream(StoredMCPStream(sessionID: "finished", streamID: 1, requestID: "1", runID: "run_done"))

        #expect(try await store.deleteMCPSessions(savedBefore: Date(timeIntervalSinceNow: -3600)) == 2)
        #expect(try await store.mcpSession(id: "idle") == nil)
        #expect(try await store.mcpSession(id: "finished") == nil)
        #expect(try await store.mcpSession(id: "busy") != nil)
        #expect(try await store.mcpSession(id: "recent") != nil)
    }

    /// `--sessions-per-user` counted in the store: a user's sessions that are live — saved
    /// since the cutoff, or with a call still running — count, others' and stale ones do not;
    /// a refused session is not recorded; an ended one frees its place.
    @Test(arguments: StoreBackend.all) func aUsersLiveSessionsCountAgainstTheLimit(backend: StoreBackend) async throws {
        let temporary = try await TemporaryStore(backend)
        defer { temporary.remove() }
        let store = temporary.store
        let cutoff = Date(timeIntervalSinceNow: -3600)
        let old = Date(timeIntervalSinceNow: -7200)
        // Stale (its server gone, nothing running): not counted. Stale with a running call: counted.
        try await store.saveMCPSession(Self.session("stale", savedAt: old))
        try await store.saveMCPSession(Self.session("busy", savedAt: old))
        try await store.createRun(StoreHarness.newRun("run_busy"))
        try await store.saveMCPStream(StoredMCPStream(sessionID: "busy", streamID: 1, requestID: "1", runID: "run_busy"))

        #expect(try await store.createMCPSession(Self.session("s1"), limit: 3, liveSince: cutoff) == nil)
        #expect(try await store.createMCPSession(Self.session("s2"), limit: 3, liveSince: cutoff) == nil)
        #expect(try await store.createMCPSession(Self.session("s3"), limit: 3, liveSince: cutoff) == 3)
        #expect(try await store.mcpSession(id: "s3") == nil)
        var bobs = Self.session("b1")
        bobs.user = "bob"
        #expect(try await store.createMCPSession(bobs, limit: 3, liveSince: cutoff) == nil)

        try await store.deleteMCPSession(id: "s1")
        #expect(try await store.createMCPSession(Self.session("s3"), limit: 3, liveSince: cutoff) == nil)
        #expect(try await store.mcpSession(id: "s3")?.user == "alice")
    }

    /// Sessions of one user created at once through two stores on one database (two servers)
    /// never pass the limit.
    @Test(arguments: StoreBackend.all) func concurrentSessionsNeverPassTheUserLimit(backend: StoreBackend) async throws {
        let temporary = try await TemporaryStore(backend)
        defer { temporary.remove() }
        let other = try await temporary.opening(owner: "other@host")
        defer { (other as? PostgresRunStore)?.close() }
        let stores: [TestedStore] = [temporary.store, other]
        let cutoff = Date(timeIntervalSinceNow: -3600)
        let admitted = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<12 {
                let store = stores[index % 2]
                group.addTask { try await store.createMCPSession(Self.session("c\(index)"), limit: 4, liveSince: cutoff) == nil }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(admitted == 4)
    }
}
