public import Foundation
import PostgresNIO
public import SluiceStore
import Synchronization

/// The shared run store: one PostgreSQL database for several `sluice serve` replicas (and the
/// CLI), through postgres-nio's pooled `PostgresClient`. Same tables and semantics as
/// ``SQLiteRunStore``; the schema is migrated when a store opens, under an advisory lock, so
/// replicas starting at once migrate it exactly once.
///
/// A run belongs to the process that runs it (`owner`, `pid@host`) for as long as that process
/// renews its lease: every `leaseTimeout / 3` the store extends the leases of its running runs.
/// A run whose lease expired (its process was killed, or its machine lost) reads as
/// `interrupted`, like a SQLite run whose process is gone, and can be resumed anywhere.
///
/// ```swift
/// let store = try await PostgresRunStore.open(url: "postgres://sluice@db.internal:5432/sluice")
/// for run in try await store.runs(RunFilter(limit: 20)) { print(run.id, run.status) }
/// ```
///
/// #### Errors
/// ``StoreError``: `unavailable` when the server cannot be reached or refuses the connection
/// (never a fallback to SQLite), `invalidData` for a URL that is not a PostgreSQL URL,
/// `conflict` for a duplicate `seq`, `locked` for a deadlock or lock timeout, `io` otherwise.
public final class PostgresRunStore: RunStore, ResponseCache, MCPSessionStore {
    /// The database, as a URL without its password.
    public let location: String
    /// This process, as recorded in the runs it owns (`pid@host`).
    public let owner: String
    /// How long a run stays owned without a heartbeat from its process.
    public let leaseTimeout: TimeInterval
    let client: PostgresClient
    let logger: Logger
    private let background: [Task<Void, Never>]
    /// Followers waiting for appends (see ``watchEvents(runID:)``).
    let wakeups = EventWakeups()
    /// The LISTENing connection's task, started by the first follower.
    let listener = Mutex<Task<Void, Never>?>(nil)
    /// Every append goes through it: one transaction per round for all runs (group commit).
    let writer: PostgresEventWriter
    /// Rounds of appends that may commit at once (``PostgresEventWriter``): two, so a round
    /// starts while the previous one commits.
    static let writerConnections = 2
    /// Every read of a run's log goes through it: reads waiting together share one query.
    let reader: PostgresEventReader
    /// The plan versions this process serves (see ``serve(_:)``), renewed by the heartbeat.
    let served: ServedPlans

    /// Connects, brings the schema up to date and starts the pool and the lease heartbeat.
    ///
    /// - Parameters:
    ///   - url: `postgres://user[:password]@host[:port]/database[?sslmode=disable|prefer|require]`.
    ///   - owner: who this store's runs belong to while they run (tests pass others).
    ///   - leaseTimeout: seconds a run stays owned without a heartbeat (see the type's doc).
    public static func open(
        url: String, owner: String = ProcessOwner.current, leaseTimeout: TimeInterval = 30, maximumConnections: Int = 10
    ) async throws(StoreError) -> PostgresRunStore {
        let parsed = try PostgresStoreURL(url)
        let logger = Logger(label: "sluice.store.postgres")
        // One direct connection first: a wrong address or password fails here at once with
        // its reason, where the pool would keep retrying in the background.
        do {
            let connection = try await PostgresConnection.connect(configuration: try parsed.connectionConfiguration(), id: 1, logger: logger)
            do {
                try await PostgresSchema.migrate(PostgresSession(connection: connection, logger: logger))
                try? await connection.close()
            } catch {
                try? await connection.close()
                throw error
            }
        } catch {
            throw storeError(error, location: parsed.redacted, doing: "open the run store")
        }
        return PostgresRunStore(url: parsed, owner: owner, leaseTimeout: leaseTimeout, maximumConnections: maximumConnections, logger: logger)
    }

    private init(url: PostgresStoreURL, owner: String, leaseTimeout: TimeInterval, maximumConnections: Int, logger: Logger) {
        location = url.redacted
        self.owner = owner
        self.leaseTimeout = leaseTimeout
        self.logger = logger
        client = PostgresClient(configuration: url.clientConfiguration(maximumConnections: maximumConnections), backgroundLogger: logger)
        let writerClient = PostgresClient(configuration: url.clientConfiguration(maximumConnections: Self.writerConnections), backgroundLogger: logger)
        writer = PostgresEventWriter(client: writerClient, connections: Self.writerConnections, logger: logger, location: url.redacted)
        reader = PostgresEventReader(client: client, logger: logger, location: url.redacted)
        let served = ServedPlans()
        self.served = served
        let client = self.client
        let runner = Task.detached { await client.run() }
        let writerRunner = Task.detached { await writerClient.run() }
        let location = self.location
        // The leases are renewed with the rows locked in id order, as appends lock them, so a
        // heartbeat waits for a round of appends instead of deadlocking with it.
        let heartbeat = Task.detached {
            let interval = max(leaseTimeout / 3, 0.05)
            while !Task.isCancelled {
                do { try await Task.sleep(for: .seconds(interval)) } catch { return }
                do {
                    try await client.withConnection { connection in
                        try await PostgresSession(connection: connection, logger: logger).execute("""
                            UPDATE runs SET lease_expires_at = \(unescaped: PostgresSchema.now) + \(leaseTimeout)
                            WHERE id IN (SELECT id FROM runs WHERE owner = \(owner) AND status = 'running' ORDER BY id FOR UPDATE)
                            """)
                    }
                    if let plans = served.current, !plans.isEmpty {
                        try await client.withConnection { connection in
                            try await Self.renew(plans, owner: owner, for: leaseTimeout, in: PostgresSession(connection: connection, logger: logger))
                        }
                    }
                } catch {
                    // A missed heartbeat only shortens the lease; the next one tries again.
                    let message = PostgresRunStore.storeError(error, location: location, doing: "renew the leases of this process's runs").message
                    FileHandle.standardError.write(Data("sluice: \(message)\n".utf8))
                }
            }
        }
        background = [runner, writerRunner, heartbeat]
    }

    deinit {
        for task in background { task.cancel() }
        listener.withLock { $0?.cancel() }
    }

    /// Stops the heartbeat and closes the pool's connections once the appends already made
    /// are written (they still get their answer); later appends are refused. The store cannot
    /// be used after.
    public func close() {
        let background = self.background
        writer.close { for task in background { task.cancel() } }
        listener.withLock { $0?.cancel() }
    }

    // MARK: Sessions

    /// Runs `body` on a pooled connection, mapping errors to ``StoreError``.
    func read<T: Sendable>(_ doing: String, _ body: @escaping @Sendable (PostgresSession) async throws -> T) async throws(StoreError) -> T {
        try await detached(doing) { client, logger in
            try await client.withConnection { connection in try await body(PostgresSession(connection: connection, logger: logger)) }
        }
    }

    /// Runs `body` in one transaction (rolled back when it throws), mapping errors to ``StoreError``.
    ///
    /// Not cancellable on purpose, as with SQLite: a cancelled run still writes its last events
    /// (its `run.cancelled`), so the work runs in a task of its own.
    func write<T: Sendable>(_ doing: String, _ body: @escaping @Sendable (PostgresSession) async throws -> T) async throws(StoreError) -> T {
        try await detached(doing) { client, logger in
            try await client.withConnection { connection in
                let session = PostgresSession(connection: connection, logger: logger)
                try await session.execute("BEGIN")
                do {
                    let value = try await body(session)
                    try await session.execute("COMMIT")
                    return value
                } catch {
                    try? await session.execute("ROLLBACK")
                    throw error
                }
            }
        }
    }

    private func detached<T: Sendable>(
        _ doing: String, _ work: @escaping @Sendable (PostgresClient, Logger) async throws -> T
    ) async throws(StoreError) -> T {
        let client = self.client
        let logger = self.logger
        let location = self.location
        let result: Result<T, StoreError> = await Task {
            do {
                return .success(try await work(client, logger))
            } catch {
                return .failure(Self.storeError(error, location: location, doing: doing))
            }
        }.value
        return try result.get()
    }

    // MARK: Errors

    /// One message per failure, naming the database and what was being done; never the password.
    static func storeError(_ error: any Error, location: String, doing: String) -> StoreError {
        if let error = error as? StoreError { return error }
        if let error = error as? PostgresTransactionError, let inner = error.closureError ?? error.beginError ?? error.commitError {
            return storeError(inner, location: location, doing: doing)
        }
        if let error = error as? PostgresDecodingError {
            return StoreError(.invalidData, "cannot \(doing): column \(error.columnName) in \(location) does not hold the expected type (\(error.code))")
        }
        guard let error = error as? PSQLError else {
            // The pool's own error (postgres-nio's `_ConnectionPoolModule`, not a dependency of
            // this one): its connection attempts kept failing (the database is down or gone), so
            // it stopped trying for a while; or it was shut down.
            if String(reflecting: type(of: error)).hasSuffix(".ConnectionPoolError") {
                return StoreError(
                    .unavailable,
                    "cannot \(doing): the PostgreSQL server at \(location) cannot be reached (the connection pool: \(error)); check --store / SLUICE_STORE and that the server runs")
            }
            return StoreError(.io, "cannot \(doing) (\(location)): \(error)")
        }
        if error.code == .server, let info = error.serverInfo {
            let state = info[.sqlState] ?? ""
            let detail = info[.message] ?? "error \(state)"
            switch state {
            case "23505", "23503":
                return StoreError(.conflict, "cannot \(doing) in \(location): \(detail)")
            case "40P01", "40001", "55P03", "57014":
                return StoreError(.locked, "cannot \(doing): \(location) is busy (\(detail)); nothing was written, try again")
            case "3D000", "28000", "28P01", "57P03":
                return StoreError(.unavailable, "cannot \(doing): the PostgreSQL server at \(location) refused the connection: \(detail)")
            default:
                return StoreError(.io, "cannot \(doing) in \(location): \(detail) (SQLSTATE \(state))")
            }
        }
        let reason = error.underlying.map { "\($0)" } ?? "\(error.code)"
        switch error.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed, .uncleanShutdown, .sslUnsupported,
            .failedToAddSSLHandler, .authMechanismRequiresPassword, .unsupportedAuthMechanism, .saslError:
            return StoreError(
                .unavailable, "cannot \(doing): the PostgreSQL server at \(location) cannot be reached (\(reason)); check --store / SLUICE_STORE and that the server runs")
        default:
            return StoreError(.io, "cannot \(doing) in \(location): \(reason)")
        }
    }
}

/// A connection and its logger, with the two query shapes the store uses.
struct PostgresSession: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    /// The rows of `query`, read to the end.
    func rows(_ query: PostgresQuery) async throws -> [PostgresRandomAccessRow] {
        try await connection.query(query, logger: logger).collect().map { $0.makeRandomAccess() }
    }

    func execute(_ query: PostgresQuery) async throws {
        _ = try await connection.query(query, logger: logger).collect()
    }
}

/// The plan versions a process serves (nil: it announced none; see ``PostgresRunStore/serve(_:takingOver:)``).
final class ServedPlans: Sendable {
    /// The versions whose queued runs this process claims, and those whose interrupted runs
    /// it takes over (see ``PostgresRunStore/serve(_:takingOver:)``).
    private let plans = Mutex<(claimed: [PlanIdentity], takenOver: [PlanIdentity])?>(nil)

    /// Each version served once, with whether this process takes its runs over (nil: none).
    var current: [(plan: PlanIdentity, takesOver: Bool)]? {
        plans.withLock { state in
            guard let state else { return nil }
            let takenOver = Set(state.takenOver.map { [$0.name, $0.contentHash] })
            var seen = Set<[String]>()
            return (state.takenOver + state.claimed).compactMap { plan in
                let version = [plan.name, plan.contentHash]
                return seen.insert(version).inserted ? (plan, takenOver.contains(version)) : nil
            }
        }
    }

    /// Replaces the versions of one kind (claimed or taken over), keeping the other's.
    func set(_ new: [PlanIdentity], takingOver: Bool) {
        plans.withLock { state in
            var next = state ?? ([], [])
            if takingOver { next.takenOver = new } else { next.claimed = new }
            state = next
        }
    }

    /// Forgets every version (the process hands its runs back).
    func clear() { plans.withLock { $0 = nil } }
}
