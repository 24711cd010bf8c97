import Foundation
import PostgresNIO
import SluiceJSON
public import SluiceRunLog
public import SluiceStore

/// The event log, step checkpoints and provider calls.
extension PostgresRunStore {
    /// Rows per multi-row INSERT (8 parameters each, well under the protocol's 65,535).
    static let eventsPerStatement = 500

    public func append(_ events: [RunEvent]) async throws(StoreError) {
        guard let first = events.first else { return }
        try await write("record \(events.count) event(s) of run \(first.runID) from seq \(first.seq)") { session in
            try await Self.insert(events, in: session)
        }
    }

    /// Appends to the log after checking that `seq` continues it with no gap and no repeat,
    /// saves the checkpoints, and records the run's end when an end event is among them. The
    /// run's row is locked first, so two writers of one run take turns and the check holds.
    static func insert(_ events: [RunEvent], in session: PostgresSession) async throws {
        var index = 0
        while index < events.count {
            let runID = events[index].runID
            guard let row = try await session.rows("SELECT last_seq FROM runs WHERE id = \(runID) FOR UPDATE").first else {
                throw StoreError(.notFound, "cannot record events of run \(runID): the store has no such run (create it first)")
            }
            var expected = try row["last_seq"].decode(Int.self) + 1
            var batch: [RunEvent] = []
            while index < events.count, events[index].runID == runID {
                let event = events[index]
                guard event.seq == expected else {
                    throw StoreError(.conflict, "run \(runID): event seq \(event.seq) does not continue the stored log (expected \(expected)); nothing was written")
                }
                batch.append(event)
                expected += 1
                index += 1
            }
            var start = 0
            while start < batch.count {
                let chunk = batch[start..<min(start + eventsPerStatement, batch.count)]
                try await session.execute(insertEvents(chunk))
                start += eventsPerStatement
            }
            // The batch's checkpoints in one upsert (the last of a key wins, as one by one).
            var checkpoints: [String: (seq: Int, checkpoint: StepCheckpoint)] = [:]
            for event in batch {
                if let checkpoint = event.checkpoint { checkpoints[checkpoint.key] = (event.seq, checkpoint) }
            }
            let saved = checkpoints.values.sorted { $0.seq < $1.seq }
            start = 0
            while start < saved.count {
                try await session.execute(upsertCheckpoints(saved[start..<min(start + eventsPerStatement, saved.count)], runID: runID))
                start += eventsPerStatement
            }
            for event in batch where event.type.endsRun { try await recordEnd(event, in: session) }
            // The NOTIFY is delivered at commit, to followers on every replica (the payload is
            // only the run id, far under PostgreSQL's 8000-byte limit for any id a store accepts).
            let notifies = runID.utf8.count < 4000
            try await session.execute("""
                WITH updated AS (UPDATE runs SET last_seq = \(expected - 1), updated_at = \(Date().timeIntervalSince1970) WHERE id = \(runID) RETURNING id)
                SELECT pg_notify(\(PostgresRunStore.eventsChannel), id) FROM updated WHERE \(notifies)
                """)
        }
    }

    /// One upsert of several checkpoints of a run (distinct keys), their values bound as parameters.
    private static func upsertCheckpoints(_ saved: ArraySlice<(seq: Int, checkpoint: StepCheckpoint)>, runID: String) -> PostgresQuery {
        var binds = PostgresBindings(capacity: saved.count * 7)
        var rows: [String] = []
        rows.reserveCapacity(saved.count)
        for (seq, checkpoint) in saved {
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

    public func events(runID: String, after: Int = 0, limit: Int? = nil) async throws(StoreError) -> [RunEvent] {
        try await read("read the events of run \(runID)") { session in
            let rows = try await session.rows("""
                SELECT seq, time, type, step, item, iteration, data FROM events WHERE run_id = \(runID) AND seq > \(after)
                ORDER BY seq LIMIT \(limit)
                """)
            return try rows.map { row in
                let seq = try row["seq"].decode(Int.self)
                return RunEvent(
                    seq: seq, runID: runID, time: Date(timeIntervalSince1970: try row["time"].decode(Double.self)),
                    type: EventType(rawValue: try row["type"].decode(String.self)),
                    step: try row["step"].decode(String?.self), item: try row["item"].decode(Int?.self),
                    iteration: try row["iteration"].decode(Int?.self),
                    data: try Self.decodeJSON(row["data"].decode(String.self), what: "data of event \(seq) of run \(runID)") ?? .null)
            }
        }
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
