import Foundation
import PostgresNIO
import SluiceRunLog
import SluiceStore
import Synchronization

/// The store's group commit: every run's ``PostgresRunStore/append(_:)`` waits in one queue,
/// and the writer takes all that waits and stores it in one transaction per round — one
/// statement (``PostgresRunStore/insert(runs:in:)``) that locks the runs' rows, checks and
/// inserts their events and checkpoints, updates the runs and NOTIFYs their ids. With ~100
/// runs streaming at once each committing its own small batches, the pool's connections and
/// the database's CPU went to transaction overhead while events waited (see the README's
/// `make bench-store` section).
///
/// Guarantees, as with one transaction per append: an append returns only once its events
/// are committed, or throws and nothing of it was written; per run, `seq` continues the stored
/// log with no gap and no repeat (checked under the run's row lock). A run whose events are
/// refused (`notFound`, `conflict`) fails alone; the others of its round are written. When
/// the round itself fails (a statement the database refuses, a deadlock), each run's events
/// are tried once more in a transaction of their own, so every append gets its own answer;
/// when the database cannot be reached, every append of the round gets that error at once.
///
/// Rounds overlap: up to `connections` run at once, each on its own connection, so appends that
/// arrive while a round commits start the next round at once instead of waiting for it (with
/// one connection an event waited for the round in flight, then its own: two rounds' time). A
/// round takes the waiting appends in order but leaves an append of a run that a round in
/// flight holds, and every later append of that run, for a round after it: one run's batches
/// are written one round after another, in the order they came, so `seq` order holds and two
/// rounds never wait for each other's row locks.
///
/// A round starts when an append arrives and fewer than `connections` run, and goes on while
/// appends it may take wait; the writer holds no task while idle. ``close(then:)`` refuses new
/// appends and lets the queue drain before the pool goes.
final class PostgresEventWriter: Sendable {
    private struct Request: Sendable {
        let events: [RunEvent]
        let queuedAt: Double
        let continuation: CheckedContinuation<StoreError?, Never>
    }

    private struct State {
        var queue: [Request] = []
        /// Rounds in progress, and the runs whose events they write.
        var rounds = 0
        var inFlight: Set<String> = []
        var closed = false
        /// Runs once the queue has drained after ``close(then:)``.
        var afterClose: (@Sendable () -> Void)?

        /// The waiting appends a new round may write, taken from the queue in order: all but
        /// those of runs a round in flight holds, and the later appends of their runs.
        mutating func takeRound() -> [Request] {
            guard !queue.isEmpty else { return [] }
            var taken: [Request] = []
            var left: [Request] = []
            var blocked = inFlight
            for request in queue {
                if request.events.allSatisfy({ !blocked.contains($0.runID) }) {
                    taken.append(request)
                } else {
                    left.append(request)
                    blocked.formUnion(request.events.lazy.map(\.runID))
                }
            }
            queue = left
            for request in taken { inFlight.formUnion(request.events.lazy.map(\.runID)) }
            return taken
        }
    }

    /// The writer's own pool of `connections`: a round never waits behind the runs' other
    /// queries (saved provider calls, reads, claims) for a connection of the store's pool.
    private let client: PostgresClient
    /// How many rounds may run at once (the writer pool's size).
    let connections: Int
    private let logger: Logger
    private let location: String
    private let state = Mutex(State())

    init(client: PostgresClient, connections: Int, logger: Logger, location: String) {
        self.client = client
        self.connections = max(1, connections)
        self.logger = logger
        self.location = location
    }

    /// Appends waiting for a round to take them (for tests).
    var waitingAppends: Int { state.withLock { $0.queue.count } }

    /// Waits for the round that commits `events` (all of one run or several, in `seq` order per run).
    func append(_ events: [RunEvent]) async throws(StoreError) {
        let queuedAt = Date().timeIntervalSince1970
        let failure: StoreError? = await withCheckedContinuation { continuation in
            let start: Bool? = state.withLock { state in
                guard !state.closed else { return nil }
                state.queue.append(Request(events: events, queuedAt: queuedAt, continuation: continuation))
                guard state.rounds < connections else { return false }
                state.rounds += 1
                return true
            }
            switch start {
            case nil:
                let first = events[0]
                continuation.resume(
                    returning: StoreError(.unavailable, "cannot record \(events.count) event(s) of run \(first.runID) from seq \(first.seq): the store (\(location)) was closed"))
            case true?:
                // Detached: a round must not inherit a run's cancellation (a cancelled run still
                // writes its `run.cancelled`).
                Task.detached { await self.writeRounds() }
            case false?:
                break
            }
        }
        if let failure { throw failure }
    }

    /// Refuses new appends; `then` runs once every append already queued has its answer.
    func close(then: @escaping @Sendable () -> Void) {
        let now: Bool = state.withLock { state in
            state.closed = true
            guard state.rounds > 0 else { return true }
            state.afterClose = then
            return false
        }
        if now { then() }
    }

    /// Rounds while appends this loop may take wait; ends when there are none (the appends a
    /// round in flight holds back are taken by that round's loop once it is done).
    private func writeRounds() async {
        while true {
            let (round, afterClose): ([Request], (@Sendable () -> Void)?) = state.withLock { state in
                let round = state.takeRound()
                guard round.isEmpty else { return (round, nil) }
                state.rounds -= 1
                guard state.rounds == 0, state.queue.isEmpty else { return ([], nil) }
                defer { state.afterClose = nil }
                return ([], state.afterClose)
            }
            guard !round.isEmpty else {
                afterClose?()
                return
            }
            let failures = await write(round)
            // The runs are free before their appends return, so a run's next append is not held back.
            state.withLock { state in
                for request in round { state.inFlight.subtract(request.events.lazy.map(\.runID)) }
            }
            for request in round {
                request.continuation.resume(returning: Self.failure(of: request.events, in: failures))
            }
        }
    }

    /// `error` as the store reports it for `run`'s events.
    private static func storeError(_ error: any Error, of run: (runID: String, events: [RunEvent]), location: String) -> StoreError {
        PostgresRunStore.storeError(
            error, location: location, doing: "record \(run.events.count) event(s) of run \(run.runID) from seq \(run.events[0].seq)")
    }

    /// The first failure among the runs of `events` (an append may hold several runs' events).
    private static func failure(of events: [RunEvent], in failures: [String: StoreError]) -> StoreError? {
        guard !failures.isEmpty else { return nil }
        return events.lazy.compactMap { failures[$0.runID] }.first
    }

    /// One round: the runs' events in one transaction; the failures by run id.
    private func write(_ round: [Request]) async -> [String: StoreError] {
        // One batch per run, its requests' events in the order they arrived.
        var order: [String] = []
        var batches: [String: [RunEvent]] = [:]
        for event in round.lazy.flatMap(\.events) {
            if batches[event.runID] == nil { order.append(event.runID) }
            batches[event.runID, default: []].append(event)
        }
        let runs = order.map { (runID: $0, events: batches[$0]!) }
        let began = Date().timeIntervalSince1970
        do {
            // One statement, its own transaction (``PostgresRunStore/insert(runs:in:)``).
            let failures = try await client.withConnection { [logger] connection in
                try await PostgresRunStore.insert(runs: runs, in: PostgresSession(connection: connection, logger: logger))
            }
            EventTimesLog.shared?.stored(round.filter { Self.failure(of: $0.events, in: failures) == nil }.map { ($0.events, $0.queuedAt) }, began: began)
            return failures
        } catch {
            var failures: [String: StoreError] = [:]
            // Unreachable: every run gets that answer at once (one by one, each would wait for
            // its own connection attempt to time out).
            if Self.storeError(error, of: runs[0], location: location).code == .unavailable {
                for run in runs { failures[run.runID] = Self.storeError(error, of: run, location: location) }
                return failures
            }
            // Else each run alone, so the failure is told to the run it belongs to.
            for run in runs {
                do {
                    try await client.withConnection { [logger] connection in
                        let session = PostgresSession(connection: connection, logger: logger)
                        if let failure = try await PostgresRunStore.insert(runs: [run], in: session)[run.runID] { throw failure }
                    }
                } catch {
                    failures[run.runID] = Self.storeError(error, of: run, location: location)
                }
            }
            return failures
        }
    }
}
