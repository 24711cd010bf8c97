import PostgresNIO
import SluiceStore

/// The PostgreSQL schema, one migration per change (never edit a registered one), applied when
/// a store opens. Replicas opening at once queue on a transaction-scoped advisory lock, so each
/// migration runs exactly once and nobody reads a half-made schema.
enum PostgresSchema {
    /// The advisory lock key of the migrations ("sluice" in ASCII).
    static let migrationLock: Int64 = 0x736C_7569_6365

    /// The database's clock in seconds since 1970, the unit of every time column. Leases are
    /// compared with it, so replicas whose clocks differ still agree on who holds a run.
    static let now = "extract(epoch FROM clock_timestamp())::double precision"

    /// Each migration: its version, a name, and its statements (one per query: the extended
    /// protocol takes a single statement at a time).
    static let migrations: [(version: Int, name: String, statements: [String])] = [
        (1, "runs, events, checkpoints, provider calls, cache, MCP sessions, leases", [
            """
            CREATE TABLE runs (
                id TEXT PRIMARY KEY,
                plan_name TEXT NOT NULL,
                plan_path TEXT NOT NULL,
                plan_hash TEXT NOT NULL,
                inputs TEXT NOT NULL,
                options TEXT NOT NULL,
                user_name TEXT NOT NULL,
                status TEXT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                updated_at DOUBLE PRECISION NOT NULL,
                finished_at DOUBLE PRECISION,
                result TEXT,
                error TEXT,
                usage TEXT,
                billing TEXT,
                last_seq BIGINT NOT NULL DEFAULT 0,
                resumes BIGINT NOT NULL DEFAULT 0,
                owner TEXT,
                lease_expires_at DOUBLE PRECISION,
                cancel_requested BOOLEAN NOT NULL DEFAULT FALSE
            )
            """,
            "CREATE INDEX runs_by_creation ON runs (created_at)",
            "CREATE INDEX runs_by_user ON runs (user_name, created_at)",
            "CREATE INDEX runs_by_owner ON runs (owner) WHERE status = 'running'",
            """
            CREATE TABLE events (
                run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
                seq BIGINT NOT NULL,
                time DOUBLE PRECISION NOT NULL,
                type TEXT NOT NULL,
                step TEXT,
                item BIGINT,
                iteration BIGINT,
                data TEXT NOT NULL,
                PRIMARY KEY (run_id, seq)
            )
            """,
            """
            CREATE TABLE checkpoints (
                run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
                key TEXT NOT NULL,
                output TEXT NOT NULL,
                lifted TEXT NOT NULL,
                failed_items TEXT,
                skipped BOOLEAN NOT NULL,
                seq BIGINT NOT NULL,
                PRIMARY KEY (run_id, key)
            )
            """,
            """
            CREATE TABLE provider_calls (
                run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
                kind TEXT NOT NULL,
                request_hash TEXT NOT NULL,
                occurrence BIGINT NOT NULL,
                request TEXT NOT NULL,
                response TEXT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (run_id, kind, request_hash, occurrence)
            )
            """,
            """
            CREATE TABLE response_cache (
                kind TEXT NOT NULL,
                request_hash TEXT NOT NULL,
                request TEXT NOT NULL,
                response TEXT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                expires_at DOUBLE PRECISION,
                PRIMARY KEY (kind, request_hash)
            )
            """,
            """
            CREATE TABLE mcp_sessions (
                id TEXT PRIMARY KEY,
                user_name TEXT NOT NULL,
                protocol_version TEXT NOT NULL,
                client_capabilities TEXT NOT NULL,
                client_info TEXT NOT NULL,
                initialized BOOLEAN NOT NULL,
                log_level TEXT NOT NULL,
                next_stream_id BIGINT NOT NULL,
                saved_at DOUBLE PRECISION NOT NULL
            )
            """,
            """
            CREATE TABLE mcp_streams (
                session_id TEXT NOT NULL REFERENCES mcp_sessions (id) ON DELETE CASCADE,
                stream_id BIGINT NOT NULL,
                request_id TEXT NOT NULL,
                run_id TEXT NOT NULL,
                progress_token TEXT,
                log_level TEXT NOT NULL,
                PRIMARY KEY (session_id, stream_id)
            )
            """,
            "CREATE INDEX mcp_streams_by_run ON mcp_streams (run_id)",
        ]),
        (2, "the question a waiting run waits on", ["ALTER TABLE runs ADD COLUMN pending_input TEXT"]),
        // Runs received by a replica with no free place wait here until one with room claims
        // them (`PostgresRunStore+Queue.swift`); the partial index keeps the claim's scan to them.
        (3, "run queue", [
            "ALTER TABLE runs ADD COLUMN queued BOOLEAN NOT NULL DEFAULT FALSE",
            "CREATE INDEX runs_queue ON runs (created_at, id) WHERE queued",
        ]),
        // The plan versions each live replica serves, renewed with its leases: an interrupted
        // run counts against its user's limit only while one of them could take it over.
        (4, "plans served by live replicas", [
            """
            CREATE TABLE served_plans (
                owner TEXT NOT NULL,
                plan_name TEXT NOT NULL,
                plan_hash TEXT NOT NULL,
                expires_at DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (owner, plan_name, plan_hash)
            )
            """,
            "CREATE INDEX served_plans_by_plan ON served_plans (plan_name, plan_hash)",
        ]),
        // Whether the replica takes interrupted runs of that version over, or only claims its
        // queued runs (`--no-resume`, `--stdio`): a queued run counts while any live replica
        // could claim it, an interrupted one while one could take it over. Rows of replicas
        // from before it only took over. And since when a queued run has had no live replica
        // to claim it (NULL: it has one), so one nobody serves is ended after a while.
        (5, "plans served without taking runs over; queued runs nobody serves", [
            "ALTER TABLE served_plans ADD COLUMN takes_over BOOLEAN NOT NULL DEFAULT TRUE",
            "ALTER TABLE runs ADD COLUMN unserved_since DOUBLE PRECISION",
        ]),
    ]

    /// Brings the database up to the newest migration, in one transaction under the lock.
    ///
    /// - Throws: ``SluiceStore/StoreError`` `conflict` when the database was migrated by a newer
    ///   Sluice (it would not understand the schema), or the database's errors.
    static func migrate(_ session: PostgresSession) async throws {
        try await session.execute("BEGIN")
        do {
            try await session.execute("SELECT pg_advisory_xact_lock(\(migrationLock))")
            try await session.execute("""
                CREATE TABLE IF NOT EXISTS sluice_migrations (
                    version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL)
                """)
            let applied = Set(try await session.rows("SELECT version FROM sluice_migrations").map { try $0["version"].decode(Int.self) })
            if let newest = applied.max(), let known = migrations.last?.version, newest > known {
                throw StoreError(
                    .conflict, "the database was migrated to schema version \(newest) by a newer Sluice; this one knows up to \(known) (upgrade sluice)")
            }
            for migration in migrations where !applied.contains(migration.version) {
                for statement in migration.statements { try await session.execute(PostgresQuery(unsafeSQL: statement)) }
                try await session.execute("""
                    INSERT INTO sluice_migrations (version, name, applied_at) VALUES (\(migration.version), \(migration.name), \(unescaped: now))
                    """)
            }
            try await session.execute("COMMIT")
        } catch {
            try? await session.execute("ROLLBACK")
            throw error
        }
    }
}
