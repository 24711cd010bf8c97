public import Foundation
import GRDB
import SluiceJSON

/// The embedded run store: one SQLite file (`runs.sqlite` in `SLUICE_HOME`) through GRDB.
///
/// WAL mode lets readers (`sluice runs events`) work while a run writes; writers from several
/// processes (the CLI and a server) take turns, each waiting up to the busy timeout. Past that
/// the write fails with ``StoreError/Code/locked`` — it is never dropped.
///
/// ```swift
/// let store = try SQLiteRunStore(home: SluiceHome.resolve(environment: ProcessInfo.processInfo.environment))
/// for run in try await store.runs(RunFilter(limit: 20)) { print(run.id, run.status) }
/// ```
///
/// #### Errors
/// Opening throws ``StoreError`` `io` (the folder cannot be made), `corrupt` (the file is not a
/// database or is damaged) or `locked`.
public final class SQLiteRunStore: RunStore, ResponseCache, MCPSessionStore {
    /// The database file.
    public let path: String
    public let busyTimeout: TimeInterval
    /// This process, as recorded in the runs it owns (`pid@host`).
    public let owner: String
    let pool: DatabasePool

    /// Opens (creating when needed) `runs.sqlite` in the folder `home`.
    public convenience init(home: String, busyTimeout: TimeInterval = 5) throws(StoreError) {
        do {
            try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        } catch {
            throw StoreError(.io, "cannot create the Sluice home folder \(home): \(error.localizedDescription) (set SLUICE_HOME to a writable folder)")
        }
        try self.init(path: (home as NSString).appendingPathComponent("runs.sqlite"), busyTimeout: busyTimeout)
    }

    /// Opens (creating when needed) the database file at `path` and brings its schema up to date.
    ///
    /// - Parameter owner: who this store's runs belong to while they run (tests pass others).
    public init(path: String, busyTimeout: TimeInterval = 5, owner: String = ProcessOwner.current) throws(StoreError) {
        self.path = path
        self.busyTimeout = busyTimeout
        self.owner = owner
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        configuration.label = "sluice.runs"
        configuration.prepareDatabase { db in
            // Durable at each checkpoint of the WAL, safe against a killed process (not against
            // power loss between checkpoints), and much faster than FULL for the event log.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        // Processes opening a new store at once race to switch it to WAL and to migrate it
        // (the loser sees SQLITE_BUSY or "table runs already exists"): try again until the
        // busy timeout, by which time the winner has finished.
        let deadline = Date().addingTimeInterval(max(busyTimeout, 1))
        var opened: DatabasePool?
        while opened == nil {
            do {
                let candidate = try DatabasePool(path: path, configuration: configuration)
                try Self.migrator.migrate(candidate)
                opened = candidate
            } catch let error as DatabaseError where Self.isOpeningRace(error) && Date() < deadline {
                usleep(20_000)
            } catch {
                throw Self.storeError(error, path: path, doing: "open the run store")
            }
        }
        guard let opened else { throw StoreError(.io, "cannot open the run store \(path)") }
        pool = opened
    }

    private static func isOpeningRace(_ error: DatabaseError) -> Bool {
        switch error.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED: true
        case .SQLITE_ERROR: error.message?.contains("already exists") ?? false
        default: false
        }
    }

    /// The schema, one migration per change; never edit a registered migration.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: runs, events, checkpoints, provider calls, cache") { db in
            try db.execute(sql: """
                CREATE TABLE runs (
                    id TEXT PRIMARY KEY NOT NULL,
                    plan_name TEXT NOT NULL,
                    plan_path TEXT NOT NULL,
                    plan_hash TEXT NOT NULL,
                    inputs TEXT NOT NULL,
                    options TEXT NOT NULL,
                    user TEXT NOT NULL,
                    status TEXT NOT NULL,
                    created_at REAL NOT NULL,
                    updated_at REAL NOT NULL,
                    finished_at REAL,
                    result TEXT,
                    error TEXT,
                    usage TEXT,
                    billing TEXT,
                    last_seq INTEGER NOT NULL DEFAULT 0,
                    resumes INTEGER NOT NULL DEFAULT 0,
                    owner TEXT,
                    cancel_requested INTEGER NOT NULL DEFAULT 0
                );
                CREATE INDEX runs_by_creation ON runs(created_at);
                CREATE INDEX runs_by_user ON runs(user, created_at);
                CREATE TABLE events (
                    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    seq INTEGER NOT NULL,
                    time REAL NOT NULL,
                    type TEXT NOT NULL,
                    step TEXT,
                    item INTEGER,
                    iteration INTEGER,
                    data TEXT NOT NULL,
                    PRIMARY KEY (run_id, seq)
                ) WITHOUT ROWID;
                CREATE TABLE checkpoints (
                    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    key TEXT NOT NULL,
                    output TEXT NOT NULL,
                    lifted TEXT NOT NULL,
                    failed_items TEXT,
                    skipped INTEGER NOT NULL,
                    seq INTEGER NOT NULL,
                    PRIMARY KEY (run_id, key)
                ) WITHOUT ROWID;
                CREATE TABLE provider_calls (
                    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    kind TEXT NOT NULL,
                    request_hash TEXT NOT NULL,
                    occurrence INTEGER NOT NULL,
                    request TEXT NOT NULL,
                    response TEXT NOT NULL,
                    created_at REAL NOT NULL,
                    PRIMARY KEY (run_id, kind, request_hash, occurrence)
                ) WITHOUT ROWID;
                CREATE TABLE response_cache (
                    kind TEXT NOT NULL,
                    request_hash TEXT NOT NULL,
                    request TEXT NOT NULL,
                    response TEXT NOT NULL,
                    created_at REAL NOT NULL,
                    expires_at REAL,
                    PRIMARY KEY (kind, request_hash)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v2: MCP sessions and their call streams") { db in
            try db.execute(sql: """
                CREATE TABLE mcp_sessions (
                    id TEXT PRIMARY KEY NOT NULL,
                    user TEXT NOT NULL,
                    protocol_version TEXT NOT NULL,
                    client_capabilities TEXT NOT NULL,
                    client_info TEXT NOT NULL,
                    initialized INTEGER NOT NULL,
                    log_level TEXT NOT NULL,
                    next_stream_id INTEGER NOT NULL,
                    saved_at REAL NOT NULL
                );
                CREATE TABLE mcp_streams (
                    session_id TEXT NOT NULL REFERENCES mcp_sessions(id) ON DELETE CASCADE,
                    stream_id INTEGER NOT NULL,
                    request_id TEXT NOT NULL,
                    run_id TEXT NOT NULL,
                    progress_token TEXT,
                    log_level TEXT NOT NULL,
                    PRIMARY KEY (session_id, stream_id)
                ) WITHOUT ROWID;
                CREATE INDEX mcp_streams_by_run ON mcp_streams(run_id);
                """)
        }
        migrator.registerMigration("v3: the question a waiting run waits on") { db in
            try db.execute(sql: "ALTER TABLE runs ADD COLUMN pending_input TEXT")
        }
        return migrator
    }

    // MARK: Errors

    /// Runs a write transaction, mapping database errors to ``StoreError``.
    ///
    /// Not cancellable on purpose: a cancelled run still writes its last events (its
    /// `run.cancelled`), so the write is queued with a completion instead of GRDB's async
    /// `write`, which refuses to start in a cancelled task.
    func write<T: Sendable>(_ doing: String, _ body: @escaping @Sendable (Database) throws -> T) async throws(StoreError) -> T {
        let path = self.path
        let result: Result<T, StoreError> = await withCheckedContinuation { continuation in
            pool.asyncWrite(body) { _, result in
                continuation.resume(returning: result.mapError { Self.storeError($0, path: path, doing: doing) })
            }
        }
        return try result.get()
    }

    /// Runs a read, mapping database errors to ``StoreError``.
    ///
    /// Not cancellable either, as PostgreSQL's are not: GRDB's async `read` refuses to start
    /// in a cancelled task, and the reads made there decide something — whether a parked run
    /// was cancelled meanwhile, whether a retried append was stored already — so a refusal
    /// would lose or wrongly refuse it. A read is short; it is queued with a completion.
    func read<T: Sendable>(_ doing: String, _ body: @escaping @Sendable (Database) throws -> T) async throws(StoreError) -> T {
        let path = self.path
        let result: Result<T, StoreError> = await withCheckedContinuation { continuation in
            pool.asyncRead { database in
                continuation.resume(
                    returning: Result { try body(database.get()) }.mapError { Self.storeError($0, path: path, doing: doing) })
            }
        }
        return try result.get()
    }

    /// One message per failure, naming the file and what was being done; never "unknown error".
    static func storeError(_ error: any Error, path: String, doing: String) -> StoreError {
        if let error = error as? StoreError { return error }
        guard let database = error as? DatabaseError else {
            return StoreError(.io, "cannot \(doing) (\(path)): \(error)")
        }
        let detail = database.message ?? "\(database.resultCode)"
        switch database.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return StoreError(.locked, "cannot \(doing): the run store \(path) is locked by another process (waited its busy timeout); nothing was written, try again")
        case .SQLITE_CORRUPT, .SQLITE_NOTADB:
            return StoreError(.corrupt, "cannot \(doing): \(path) is damaged or not a SQLite database (\(detail)); move it aside to start a new store, or restore it from a backup")
        case .SQLITE_CONSTRAINT:
            return StoreError(.conflict, "cannot \(doing) in \(path): \(detail)")
        case .SQLITE_FULL, .SQLITE_IOERR, .SQLITE_CANTOPEN, .SQLITE_READONLY, .SQLITE_PERM:
            return StoreError(.io, "cannot \(doing): the file system refused \(path) (\(detail))")
        default:
            return StoreError(.io, "cannot \(doing) in \(path): \(detail)")
        }
    }
}

/// Where Sluice keeps its data: `SLUICE_HOME`, else `./.sluice`.
public enum SluiceHome {
    public static func resolve(environment: [String: String]) -> String {
        if let home = environment["SLUICE_HOME"], !home.isEmpty { return home }
        return (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(".sluice")
    }
}

/// Who runs a run (`pid@host`), and whether that process is still alive.
public enum ProcessOwner {
    public static var current: String { "\(getpid())@\(hostName)" }

    static var hostName: String { ProcessInfo.processInfo.hostName }

    /// False only when `owner` names a process on this host that no longer exists. A process on
    /// another host is assumed alive (a shared store needs leases for that: not done here).
    public static func isAlive(_ owner: String) -> Bool {
        guard let at = owner.firstIndex(of: "@"), let pid = Int32(owner[..<at]) else { return false }
        guard owner[owner.index(after: at)...] == hostName else { return true }
        if pid == getpid() { return true }
        return kill(pid, 0) == 0 || errno == EPERM
    }
}
