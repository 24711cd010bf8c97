import Foundation
import PostgresNIO
import SluiceJSON
import SluiceRunLog
import SluiceStore

/// A round of appends as ONE statement: the runs' rows locked, each batch checked against its
/// run's `last_seq`, the accepted batches' events and checkpoints inserted, their runs updated
/// (and ended, for an end event) and their followers notified, all in data-modifying CTEs over
/// array parameters. Outside a transaction the statement is one by itself, so a round is one
/// round trip to the database instead of eight (BEGIN, lock, events, checkpoints, each run's
/// end, last_seq, NOTIFY, COMMIT): under load every round trip waited for both processes to be
/// scheduled, and the round trips, not the work, made a round last (`make bench-store`). The
/// text of the statement is the same for every round, only the arrays change, so it is a
/// prepared statement.
extension PostgresRunStore {
    /// Several runs' events at once (one batch per run, distinct run ids), in one statement
    /// (atomic by itself, or part of the caller's transaction): rows locked in id order (two
    /// writers lock in the same order, so they wait rather than deadlock); a batch is accepted
    /// when its `seq`s continue its run's `last_seq` with no gap and no repeat. A refused run
    /// (unknown, or a `seq` that does not continue its log) has nothing written and is named in
    /// the result; errors of the database are thrown. When any batch is accepted, the round's
    /// run ids are notified on ``eventsChannel`` (one per line, in payloads under 8000 bytes);
    /// a refused run's followers then read and find nothing new.
    static func insert(runs: [(runID: String, events: [RunEvent])], in session: PostgresSession) async throws -> [String: StoreError] {
        guard !runs.isEmpty else { return [:] }
        var round = RoundArrays()
        for run in runs { round.add(run) }
        var lastSeqs: [String: Int] = [:]
        let statement = RoundStatement(query: round.statement(now: Date().timeIntervalSince1970))
        for try await (id, lastSeq) in try await session.connection.execute(statement, logger: session.logger) {
            lastSeqs[id] = lastSeq
        }
        // The same test the statement made, to say why a batch was refused.
        var failures: [String: StoreError] = [:]
        for run in runs {
            guard let lastSeq = lastSeqs[run.runID] else {
                failures[run.runID] = StoreError(.notFound, "cannot record events of run \(run.runID): the store has no such run (create it first)")
                continue
            }
            if let misplaced = zip(run.events, (lastSeq + 1)...).first(where: { $0.seq != $1 }) {
                failures[run.runID] = StoreError(
                    .conflict, "run \(run.runID): event seq \(misplaced.0.seq) does not continue the stored log (expected \(misplaced.1)); nothing was written")
            }
        }
        return failures
    }
}

/// The round's statement, prepared once per connection (the driver keeps it by name): its
/// text never changes, so PostgreSQL parses it once and may keep its plan, instead of parsing
/// and planning six CTEs for every round.
private struct RoundStatement: PostgresPreparedStatement {
    typealias Row = (String, Int)
    static let sql = RoundArrays().statement(now: 0).sql
    let query: PostgresQuery

    func makeBindings() -> PostgresBindings { query.binds }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        let (id, lastSeq, _) = try row.decode((String, Int, Int).self)
        return (id, lastSeq)
    }
}

/// A round's values, column by column (PostgreSQL arrays; a nullable value is a value and a
/// "present" flag, since the driver binds no arrays of optionals).
private struct RoundArrays {
    var ids: [String] = []
    // Per batch.
    var firstSeqs: [Int] = []
    var consecutive: [Bool] = []
    var lastSeqs: [Int] = []
    var ended: [Bool] = []
    var statuses: [String] = []
    var finishedAt: [Double] = []
    var results = Nullable()
    var errors = Nullable()
    var usages = Nullable()
    var billings = Nullable()
    // Per event.
    var eventRuns: [String] = []
    var seqs: [Int] = []
    var times: [Double] = []
    var types: [String] = []
    var steps = Nullable()
    var items = NullableInt()
    var iterations = NullableInt()
    var data: [String] = []
    // Per checkpoint.
    var checkpointRuns: [String] = []
    var keys: [String] = []
    var outputs: [String] = []
    var lifted: [String] = []
    var failedItems = Nullable()
    var skipped: [Bool] = []
    var checkpointSeqs: [Int] = []

    struct Nullable {
        var values: [String] = []
        var present: [Bool] = []
        mutating func append(_ value: String?) {
            values.append(value ?? "")
            present.append(value != nil)
        }
    }

    struct NullableInt {
        var values: [Int] = []
        var present: [Bool] = []
        mutating func append(_ value: Int?) {
            values.append(value ?? 0)
            present.append(value != nil)
        }
    }

    mutating func add(_ run: (runID: String, events: [RunEvent])) {
        let first = run.events[0].seq
        ids.append(run.runID)
        firstSeqs.append(first)
        consecutive.append(zip(run.events, first...).allSatisfy { $0.seq == $1 })
        lastSeqs.append(run.events[run.events.count - 1].seq)
        // How the run ended, from its (last) end event: status, result or error, usage and billing.
        let end = run.events.last { $0.type.endsRun }
        ended.append(end != nil)
        let status: StoredRunStatus =
            switch end?.type {
            case .runCompleted?: .completed
            case .runFailed?: .failed
            default: .cancelled
            }
        statuses.append(status.rawValue)
        finishedAt.append(end?.time.timeIntervalSince1970 ?? 0)
        results.append(end?.data["result"]?.serialized())
        errors.append(end?.data["error"]?.serialized())
        usages.append(end?.data["usage"]?.serialized())
        billings.append(end?.data["billing"]?.serialized())
        for event in run.events {
            eventRuns.append(event.runID)
            seqs.append(event.seq)
            times.append(event.time.timeIntervalSince1970)
            types.append(event.type.rawValue)
            steps.append(event.step)
            items.append(event.item)
            iterations.append(event.iteration)
            data.append(event.data.serialized())
        }
        // The batch's checkpoints (the last of a key wins, as one by one).
        var checkpoints: [String: (seq: Int, checkpoint: StepCheckpoint)] = [:]
        for event in run.events {
            if let checkpoint = event.checkpoint { checkpoints[checkpoint.key] = (event.seq, checkpoint) }
        }
        for (seq, checkpoint) in checkpoints.values.sorted(by: { $0.seq < $1.seq }) {
            checkpointRuns.append(run.runID)
            keys.append(checkpoint.key)
            outputs.append(checkpoint.output.serialized())
            lifted.append(JSONValue.object(checkpoint.lifted).serialized())
            failedItems.append(checkpoint.failedItems?.serialized())
            skipped.append(checkpoint.skipped)
            checkpointSeqs.append(seq)
        }
    }

    /// Returns each existing run's `last_seq` before the round (its row locked).
    func statement(now: Double) -> PostgresQuery {
        let sortedIDs = ids.sorted()
        let payloads = PostgresRunStore.notifyPayloads(ids)
        return """
            WITH locked AS MATERIALIZED (
                SELECT id, last_seq FROM runs WHERE id = ANY(\(sortedIDs)::text[]) ORDER BY id FOR UPDATE
            ), accepted AS MATERIALIZED (
                SELECT b.* FROM unnest(
                    \(ids)::text[], \(firstSeqs)::bigint[], \(consecutive)::boolean[], \(lastSeqs)::bigint[], \(ended)::boolean[],
                    \(statuses)::text[], \(finishedAt)::float8[], \(results.values)::text[], \(results.present)::boolean[],
                    \(errors.values)::text[], \(errors.present)::boolean[], \(usages.values)::text[], \(usages.present)::boolean[],
                    \(billings.values)::text[], \(billings.present)::boolean[]
                ) AS b (run_id, first_seq, consecutive, last_seq, ended, status, finished_at, result, has_result, error, has_error,
                    usage, has_usage, billing, has_billing)
                JOIN locked ON locked.id = b.run_id
                WHERE b.consecutive AND b.first_seq = locked.last_seq + 1
            ), inserted AS (
                INSERT INTO events (run_id, seq, time, type, step, item, iteration, data)
                SELECT e.run_id, e.seq, e.time, e.type, CASE WHEN e.has_step THEN e.step END, CASE WHEN e.has_item THEN e.item END,
                    CASE WHEN e.has_iteration THEN e.iteration END, e.data
                FROM unnest(
                    \(eventRuns)::text[], \(seqs)::bigint[], \(times)::float8[], \(types)::text[], \(steps.values)::text[],
                    \(steps.present)::boolean[], \(items.values)::bigint[], \(items.present)::boolean[], \(iterations.values)::bigint[],
                    \(iterations.present)::boolean[], \(data)::text[]
                ) AS e (run_id, seq, time, type, step, has_step, item, has_item, iteration, has_iteration, data)
                WHERE e.run_id IN (SELECT run_id FROM accepted)
            ), saved AS (
                INSERT INTO checkpoints (run_id, key, output, lifted, failed_items, skipped, seq)
                SELECT c.run_id, c.key, c.output, c.lifted, CASE WHEN c.has_failed_items THEN c.failed_items END, c.skipped, c.seq
                FROM unnest(
                    \(checkpointRuns)::text[], \(keys)::text[], \(outputs)::text[], \(lifted)::text[], \(failedItems.values)::text[],
                    \(failedItems.present)::boolean[], \(skipped)::boolean[], \(checkpointSeqs)::bigint[]
                ) AS c (run_id, key, output, lifted, failed_items, has_failed_items, skipped, seq)
                WHERE c.run_id IN (SELECT run_id FROM accepted)
                ON CONFLICT (run_id, key) DO UPDATE SET output = excluded.output, lifted = excluded.lifted,
                    failed_items = excluded.failed_items, skipped = excluded.skipped, seq = excluded.seq
            ), updated AS (
                UPDATE runs SET last_seq = a.last_seq, updated_at = \(now),
                    status = CASE WHEN a.ended THEN a.status ELSE runs.status END,
                    finished_at = CASE WHEN a.ended THEN a.finished_at ELSE runs.finished_at END,
                    result = CASE WHEN a.ended THEN (CASE WHEN a.has_result THEN a.result END) ELSE runs.result END,
                    error = CASE WHEN a.ended THEN (CASE WHEN a.has_error THEN a.error END) ELSE runs.error END,
                    usage = CASE WHEN a.ended AND a.has_usage THEN a.usage ELSE runs.usage END,
                    billing = CASE WHEN a.ended AND a.has_billing THEN a.billing ELSE runs.billing END,
                    owner = CASE WHEN a.ended THEN NULL ELSE runs.owner END,
                    lease_expires_at = CASE WHEN a.ended THEN NULL ELSE runs.lease_expires_at END
                FROM accepted AS a WHERE runs.id = a.run_id
            ), notified AS (
                SELECT pg_notify(\(PostgresRunStore.eventsChannel), payload) FROM unnest(\(payloads)::text[]) AS payload
                WHERE EXISTS (SELECT 1 FROM accepted)
            )
            SELECT locked.id, locked.last_seq, (SELECT count(*) FROM notified) AS notifications FROM locked
            """
    }
}
