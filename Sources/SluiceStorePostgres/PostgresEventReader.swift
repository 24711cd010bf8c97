import Foundation
import PostgresNIO
import SluiceJSON
import SluiceRunLog
import SluiceStore
import Synchronization

/// Reads of run logs that arrive together share one query: a round of appends on one replica
/// wakes the followers of all its runs on every other at once, and each follower reads its
/// run's new events. One query per round for all of them (a LATERAL read per run over the
/// `(run_id, seq)` key), instead of one each through the store's pool of connections.
///
/// A round starts when a read arrives and none runs, and goes on while reads wait. Each read
/// gets its own rows; one that cannot be decoded fails alone, a database error fails the round.
final class PostgresEventReader: Sendable {
    private struct Request: Sendable {
        let runID: String
        let after: Int
        let limit: Int?
        let continuation: CheckedContinuation<Result<[RunEvent], StoreError>, Never>
    }

    private struct State {
        var queue: [Request] = []
        var reading = false
    }

    private let client: PostgresClient
    private let logger: Logger
    private let location: String
    private let state = Mutex(State())

    init(client: PostgresClient, logger: Logger, location: String) {
        self.client = client
        self.logger = logger
        self.location = location
    }

    func events(runID: String, after: Int, limit: Int?) async throws(StoreError) -> [RunEvent] {
        let result: Result<[RunEvent], StoreError> = await withCheckedContinuation { continuation in
            let start = state.withLock { state in
                state.queue.append(Request(runID: runID, after: after, limit: limit, continuation: continuation))
                guard !state.reading else { return false }
                state.reading = true
                return true
            }
            // Detached: a round serves many callers and must not end with one's cancellation.
            if start { Task.detached { await self.readRounds() } }
        }
        return try result.get()
    }

    private func readRounds() async {
        while true {
            let round: [Request] = state.withLock { state in
                guard !state.queue.isEmpty else {
                    state.reading = false
                    return []
                }
                defer { state.queue = [] }
                return state.queue
            }
            if round.isEmpty { return }
            let results = await read(round)
            for (request, result) in zip(round, results) { request.continuation.resume(returning: result) }
        }
    }

    /// One query for the round; each request's result, in order.
    private func read(_ round: [Request]) async -> [Result<[RunEvent], StoreError>] {
        let runIDs = round.map(\.runID)
        let afters = round.map(\.after)
        let limits = round.map { $0.limit.map { max(0, $0) } ?? Int(Int64.max) }
        let rows: [PostgresRandomAccessRow]
        do {
            rows = try await client.withConnection { [logger] connection in
                try await PostgresSession(connection: connection, logger: logger).rows("""
                    SELECT wanted.ordinality - 1 AS request, e.seq, e.time, e.type, e.step, e.item, e.iteration, e.data
                    FROM unnest(\(runIDs)::text[], \(afters)::bigint[], \(limits)::bigint[]) WITH ORDINALITY AS wanted (run_id, after, lim, ordinality)
                    CROSS JOIN LATERAL (
                        SELECT seq, time, type, step, item, iteration, data FROM events
                        WHERE events.run_id = wanted.run_id AND events.seq > wanted.after ORDER BY seq LIMIT wanted.lim
                    ) AS e
                    ORDER BY wanted.ordinality, e.seq
                    """)
            }
        } catch {
            return round.map { .failure(PostgresRunStore.storeError(error, location: location, doing: "read the events of run \($0.runID)")) }
        }
        var events = [[RunEvent]](repeating: [], count: round.count)
        var failures: [Int: StoreError] = [:]
        for row in rows {
            var index = -1
            do {
                index = try row["request"].decode(Int.self)
                guard failures[index] == nil else { continue }
                let runID = round[index].runID
                let seq = try row["seq"].decode(Int.self)
                events[index].append(RunEvent(
                    seq: seq, runID: runID, time: Date(timeIntervalSince1970: try row["time"].decode(Double.self)),
                    type: EventType(rawValue: try row["type"].decode(String.self)),
                    step: try row["step"].decode(String?.self), item: try row["item"].decode(Int?.self),
                    iteration: try row["iteration"].decode(Int?.self),
                    data: try PostgresRunStore.decodeJSON(row["data"].decode(String.self), what: "data of event \(seq) of run \(runID)") ?? .null))
            } catch {
                guard round.indices.contains(index) else {
                    return round.map { .failure(PostgresRunStore.storeError(error, location: location, doing: "read the events of run \($0.runID)")) }
                }
                failures[index] = PostgresRunStore.storeError(error, location: location, doing: "read the events of run \(round[index].runID)")
            }
        }
        return round.indices.map { index in failures[index].map { .failure($0) } ?? .success(events[index]) }
    }
}
