import Foundation
import PostgresNIO
import SluiceJSON
public import SluiceRunLog
public import SluiceStore

/// The event log, step checkpoints and provider calls.
extension PostgresRunStore {
    /// Rows per multi-row INSERT (8 parameters each, well under the protocol's 65,535).
    static let eventsPerStatement = 500

    /// Waits for the group commit (``PostgresEventWriter``) that stores `events`.
    public func append(_ events: [RunEvent]) async throws(StoreError) {
        guard !events.isEmpty else { return }
        try await writer.append(events)
    }

    /// Appends to the log after checking that `seq` continues it with no gap and no repeat,
    /// saves the checkpoints, and records the run's end when an end event is among them: in
    /// the caller's transaction, which a thrown error must roll back.
    static func insert(_ events: [RunEvent], in session: PostgresSession) async throws {
        var runs: [(runID: String, events: [RunEvent])] = []
        for event in events {
            if let index = runs.firstIndex(where: { $0.runID == event.runID }) { runs[index].events.append(event) } else { runs.append((event.runID, [event])) }
        }
        let failures = try await insert(runs: runs, in: session)
        if let failed = runs.first(where: { failures[$0.runID] != nil }) { throw failures[failed.runID]! }
    }

    /// Several runs' events at once (one batch per run, distinct run ids), in the caller's
    /// transaction: the runs' rows are locked in one statement, in id order (two writers lock
    /// in the same order, so they wait rather than deadlock), each batch is checked against its
    /// run's `last_seq`, and the accepted ones are written with a few multi-row statements and
    /// one NOTIFY per 8 KB of run ids. A refused run (unknown, or a `seq` that does not continue
    /// its log) is left out with nothing written and named in the result; errors of the
    /// database are thrown.
    static func insert(runs: [(runID: String, events: [RunEvent])], in session: PostgresSession) async throws -> [String: StoreError] {
        let ids = runs.map(\.runID).sorted()
        var lastSeqs: [String: Int] = [:]
        for row in try await session.rows("SELECT id, last_seq FROM runs WHERE id = ANY(\(ids)) ORDER BY id FOR UPDATE") {
            lastSeqs[try row["id"].decode(String.self)] = try row["last_seq"].decode(Int.self)
        }
        var failures: [String: StoreError] = [:]
        var accepted: [(runID: String, events: [RunEvent])] = []
        for run in runs {
            guard let lastSeq = lastSeqs[run.runID] else {
                failures[run.runID] = StoreError(.notFound, "cannot record events of run \(run.runID): the store has no such run (create it first)")
                continue
            }
            if let misplaced = zip(run.events, (lastSeq + 1)...).first(where: { $0.seq != $1 }) {
                failures[run.runID] = StoreError(
                    .conflict, "run \(run.runID): event seq \(misplaced.0.seq) does not continue the stored log (expected \(misplaced.1)); nothing was written")
                continue
            }
            accepted.append(run)
        }
        guard !accepted.isEmpty else { return failures }
        let events = accepted.flatMap(\.events)
        var start = 0
        while start < events.count {
            try await session.execute(insertEvents(events[start..<min(start + eventsPerStatement, events.count)]))
            start += eventsPerStatement
        }
        // Each batch's checkpoints (the last of a key wins, as one by one), in upserts of many.
        var saved: [(runID: String, seq: Int, checkpoint: StepCheckpoint)] = []
        for run in accepted {
            var checkpoints: [String: (seq: Int, checkpoint: StepCheckpoint)] = [:]
            for event in run.events {
                if let checkpoint = event.checkpoint { checkpoints[checkpoint.key] = (event.seq, checkpoint) }
            }
            saved += checkpoints.values.sorted { $0.seq < $1.seq }.map { (run.runID, $0.seq, $0.checkpoint) }
        }
        start = 0
        while start < saved.count {
            try await session.execute(upsertCheckpoints(saved[start..<min(start + eventsPerStatement, saved.count)]))
            start += eventsPerStatement
        }
        for event in events where event.type.endsRun { try await recordEnd(event, in: session) }
        let updated = accepted.map(\.runID)
        let lastSeqsWritten = accepted.map { $0.events[$0.events.count - 1].seq }
        try await session.execute("""
            UPDATE runs SET last_seq = written.last_seq, updated_at = \(Date().timeIntervalSince1970)
            FROM unnest(\(updated)::text[], \(lastSeqsWritten)::bigint[]) AS written (id, last_seq) WHERE runs.id = written.id
            """)
        // Delivered at commit, to followers on every replica: the run ids, one per line, in
        // payloads under PostgreSQL's 8000-byte limit (an id too long or with a line break in
        // it is left to the followers' safety-net poll).
        let payloads = notifyPayloads(updated)
        if !payloads.isEmpty {
            try await session.execute("SELECT pg_notify(\(PostgresRunStore.eventsChannel), payload) FROM unnest(\(payloads)::text[]) AS payload")
        }
        return failures
    }

    /// Run ids joined by line breaks, each payload at most `limit` bytes.
    static func notifyPayloads(_ runIDs: [String], limit: Int = 7900) -> [String] {
        var payloads: [String] = []
        var current = ""
        for id in runIDs where id.utf8.count < 4000 && !id.contains("\n") {
            if !current.isEmpty, current.utf8.count + 1 + id.utf8.count > limit {
                payloads.append(current)
                current = ""
            }
            current += current.isEmpty ? id : "\n" + id
        }
        if !current.isEmpty { payloads.append(current) }
        return payloads
    }

    /// One upsert of several checkpoints (distinct run and key pairs), their values bound as parameters.
    private static func upsertCheckpoints(_ saved: ArraySlice<(runID: String, seq: Int, checkpoint: StepCheckpoint)>) -> PostgresQuery {
        var binds = PostgresBindings(capacity: saved.count * 7)
        var rows: [String] = []
        rows.reserveCapacity(saved.count)
        for (runID, seq, checkpoint) in saved {
            let base = binds.count
            binds.append(runID)
            binds.append(checkpoint.key)
            binds.append(checkpoint.output.serialized())
            binds.append(JSONValue.object(checkpoint.lifted).serialized())
            binds.append(checkpoint.failedItems?.serialized())
            binds.append(checkpoint.skipped)
            binds.append(seq)
            rows.append("(" + (1...7).map { "$\(base + $0)" }.joined(separator: ", ") + ")")
        }
        return PostgresQuery(
            unsafeSQL: """
                INSERT INTO checkpoints (run_id, key, output, lifted, failed_items, skipped, seq) VALUES \(rows.joined(separator: ", "))
                ON CONFLICT (run_id, key) DO UPDATE SET output = excluded.output, lifted = excluded.lifted,
                    failed_items = excluded.failed_items, skipped = excluded.skipped, seq = excluded.seq
                """,
            binds: binds)
    }

    /// One INSERT of several events, their values bound as parameters.
    private static func insertEvents(_ events: ArraySlice<RunEvent>) -> PostgresQuery {
        var binds = PostgresBindings(capacity: events.count * 8)
        var rows: [String] = []
        rows.reserveCapacity(events.count)
        for event in events {
            let base = binds.count
            binds.append(event.runID)
            binds.append(event.seq)
            binds.append(event.time.timeIntervalSince1970)
            binds.append(event.type.rawValue)
            binds.append(event.step)
            binds.append(event.item)
            binds.append(event.iteration)
            binds.append(event.data.serialized())
            rows.append("(" + (1...8).map { "$\(base + $0)" }.joined(separator: ", ") + ")")
        }
        return PostgresQuery(
            unsafeSQL: "INSERT INTO events (run_id, seq, time, type, step, item, iteration, data) VALUES " + rows.joined(separator: ", "),
            binds: binds)
    }

    /// How the run ended, from its end event: status, result or error, usage and billing.
    private static func recordEnd(_ event: RunEvent, in session: PostgresSession) async throws {
        let status: StoredRunStatus =
            switch event.type {
            case .runCompleted: .completed
            case .runFailed: .failed
            default: .cancelled
            }
        let result = event.data["result"]?.serialized()
        let error = event.data["error"]?.serialized()
        let usage = event.data["usage"]?.serialized()
        let billing = event.data["billing"]?.serialized()
        try await session.execute("""
            UPDATE runs SET status = \(status.rawValue), finished_at = \(event.time.timeIntervalSince1970), result = \(result), error = \(error),
                usage = COALESCE(\(usage), usage), billing = COALESCE(\(billing), billing), owner = NULL, lease_expires_at = NULL
            WHERE id = \(event.runID)
            """)
    }

    /// Read with the other reads waiting at the same moment, in one query (``PostgresEventReader``).
    public func events(runID: String, after: Int = 0, limit: Int? = nil) async throws(StoreError) -> [RunEvent] {
        try await reader.events(runID: runID, after: after, limit: limit)
    }

    public func checkpoints(runID: String) async throws(StoreError) -> [String: StepCheckpoint] {
        try await read("read the checkpoints of run \(runID)") { session in
            var checkpoints: [String: StepCheckpoint] = [:]
            for row in try await session.rows("SELECT * FROM checkpoints WHERE run_id = \(runID)") {
                let key = try row["key"].decode(String.self)
                let what = "checkpoint \(key) of run \(runID)"
                checkpoints[key] = StepCheckpoint(
                    key: key,
                    output: try Self.decodeJSON(row["output"].decode(String.self), what: what) ?? .null,
                    lifted: try Self.decodeJSON(row["lifted"].decode(String.self), what: what)?.objectValue ?? JSONObject(),
                    failedItems: try Self.decodeJSON(row["failed_items"].decode(String?.self), what: what),
                    skipped: try row["skipped"].decode(Bool.self)
                )
            }
            return checkpoints
        }
    }

    public func saveProviderCall(_ call: ProviderCall) async throws(StoreError) {
        let response = call.response.serialized()
        let hash = ContentHash.hex(of: call.request)
        try await write("record a \(call.kind.rawValue) call of run \(call.runID)") { session in
            try await session.execute("""
                INSERT INTO provider_calls (run_id, kind, request_hash, occurrence, request, response, created_at)
                VALUES (\(call.runID), \(call.kind.rawValue), \(hash), \(call.occurrence), \(call.request), \(response), \(Date().timeIntervalSince1970))
                ON CONFLICT (run_id, kind, request_hash, occurrence) DO UPDATE SET request = excluded.request, response = excluded.response,
                    created_at = excluded.created_at
                """)
        }
    }

    public func providerCalls(runID: String) async throws(StoreError) -> [ProviderCall] {
        try await read("read the provider calls of run \(runID)") { session in
            try await session.rows("SELECT * FROM provider_calls WHERE run_id = \(runID)").map { row in
                let kindText = try row["kind"].decode(String.self)
                guard let kind = ProviderCall.Kind(rawValue: kindText) else {
                    throw StoreError(.invalidData, "run \(runID) has a provider call of unknown kind '\(kindText)'")
                }
                return ProviderCall(
                    runID: runID, kind: kind, request: try row["request"].decode(String.self), occurrence: try row["occurrence"].decode(Int.self),
                    response: try Self.decodeJSON(row["response"].decode(String.self), what: "a provider call of run \(runID)") ?? .null)
            }
        }
    }
}
