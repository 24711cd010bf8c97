import Foundation
import GRDB
import SluiceJSON
public import SluiceRunLog

/// An event with its JSON already written, so serializing happens outside the write lock.
struct EncodedEvent: Sendable {
    var event: RunEvent
    var data: String
    var checkpoint: (output: String, lifted: String, failedItems: String?)?

    init(_ event: RunEvent) {
        self.event = event
        data = event.data.serialized()
        if let checkpoint = event.checkpoint {
            self.checkpoint = (
                checkpoint.output.serialized(), JSONValue.object(checkpoint.lifted).serialized(), checkpoint.failedItems?.serialized()
            )
        }
    }
}

/// The event log, step checkpoints and provider calls.
extension SQLiteRunStore {
    public func append(_ events: [RunEvent]) async throws(StoreError) {
        guard let first = events.first else { return }
        let encoded = events.map(EncodedEvent.init)
        try await write("record \(events.count) event(s) of run \(first.runID) from seq \(first.seq)") { db in
            try Self.insert(encoded, in: db)
        }
    }

    /// Appends to the log after checking that `seq` continues it with no gap and no repeat,
    /// saves the checkpoints, and records the run's end when an end event is among them.
    ///
    /// Every statement of a batch is a cached one: preparing one (with GRDB's authorizer
    /// looking at every column) for each batch was about 2% of the served CPU.
    static func insert(_ events: [EncodedEvent], in db: Database) throws {
        var index = 0
        while index < events.count {
            let runID = events[index].event.runID
            let lastSeqStatement = try db.cachedStatement(sql: "SELECT last_seq FROM runs WHERE id = ?")
            guard let lastSeq = try Int.fetchOne(lastSeqStatement, arguments: [runID]) else {
                throw StoreError(.notFound, "cannot record events of run \(runID): the store has no such run (create it first)")
            }
            var expected = lastSeq + 1
            let insertEvent = try db.cachedStatement(sql: """
                INSERT INTO events (run_id, seq, time, type, step, item, iteration, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """)
            let insertCheckpoint = try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO checkpoints (run_id, key, output, lifted, failed_items, skipped, seq) VALUES (?, ?, ?, ?, ?, ?, ?)
                """)
            while index < events.count, events[index].event.runID == runID {
                let encoded = events[index]
                let event = encoded.event
                guard event.seq == expected else {
                    throw StoreError(.conflict, "run \(runID): event seq \(event.seq) does not continue the stored log (expected \(expected)); nothing was written")
                }
                try insertEvent.execute(arguments: [
                    runID, event.seq, event.time.timeIntervalSince1970, event.type.rawValue, event.step, event.item, event.iteration, encoded.data,
                ])
                if let checkpoint = event.checkpoint, let text = encoded.checkpoint {
                    try insertCheckpoint.execute(arguments: [runID, checkpoint.key, text.output, text.lifted, text.failedItems, checkpoint.skipped, event.seq])
                }
                if event.type.endsRun { try recordEnd(event, in: db) }
                expected += 1
                index += 1
            }
            try db.cachedStatement(sql: "UPDATE runs SET last_seq = ?, updated_at = ? WHERE id = ?")
                .execute(arguments: [expected - 1, Date().timeIntervalSince1970, runID])
        }
    }

    /// How the run ended, from its end event: status, result or error, usage and billing.
    private static func recordEnd(_ event: RunEvent, in db: Database) throws {
        let status: StoredRunStatus =
            switch event.type {
            case .runCompleted: .completed
            case .runFailed: .failed
            default: .cancelled
            }
        try db.execute(
            sql: """
                UPDATE runs SET status = ?, finished_at = ?, result = ?, error = ?, usage = COALESCE(?, usage),
                    billing = COALESCE(?, billing), owner = NULL WHERE id = ?
                """,
            arguments: [
                status.rawValue, event.time.timeIntervalSince1970, event.data["result"]?.serialized(),
                event.data["error"]?.serialized(), event.data["usage"]?.serialized(), event.data["billing"]?.serialized(),
                event.runID,
            ])
    }

    public func events(runID: String, after: Int = 0, limit: Int? = nil) async throws(StoreError) -> [RunEvent] {
        try await read("read the events of run \(runID)") { db in
            let rows = try Row.fetchCursor(
                db, sql: "SELECT seq, time, type, step, item, iteration, data FROM events WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                arguments: [runID, after, limit ?? -1])
            var events: [RunEvent] = []
            while let row = try rows.next() {
                let seq: Int = row["seq"]
                events.append(RunEvent(
                    seq: seq, runID: runID, time: Date(timeIntervalSince1970: row["time"]), type: EventType(rawValue: row["type"]),
                    step: row["step"], item: row["item"], iteration: row["iteration"],
                    data: try Self.decodeJSON(row["data"], what: "data of event \(seq) of run \(runID)") ?? .null
                ))
            }
            return events
        }
    }

    public func checkpoints(runID: String) async throws(StoreError) -> [String: StepCheckpoint] {
        try await read("read the checkpoints of run \(runID)") { db in
            var checkpoints: [String: StepCheckpoint] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT * FROM checkpoints WHERE run_id = ?", arguments: [runID]) {
                let key: String = row["key"]
                let what = "checkpoint \(key) of run \(runID)"
                checkpoints[key] = StepCheckpoint(
                    key: key,
                    output: try Self.decodeJSON(row["output"], what: what) ?? .null,
                    lifted: try Self.decodeJSON(row["lifted"], what: what)?.objectValue ?? JSONObject(),
                    failedItems: try Self.decodeJSON(row["failed_items"], what: what),
                    skipped: row["skipped"]
                )
            }
            return checkpoints
        }
    }

    public func saveProviderCall(_ call: ProviderCall) async throws(StoreError) {
        let response = call.response.serialized()
        try await write("record a \(call.kind.rawValue) call of run \(call.runID)") { db in
            try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO provider_calls (run_id, kind, request_hash, occurrence, request, response, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [
                    call.runID, call.kind.rawValue, ContentHash.hex(of: call.request), call.occurrence, call.request, response,
                    Date().timeIntervalSince1970,
                ])
        }
    }

    public func providerCalls(runID: String) async throws(StoreError) -> [ProviderCall] {
        try await read("read the provider calls of run \(runID)") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM provider_calls WHERE run_id = ?", arguments: [runID]).map { row in
                let kindText: String = row["kind"]
                guard let kind = ProviderCall.Kind(rawValue: kindText) else {
                    throw StoreError(.invalidData, "run \(runID) has a provider call of unknown kind '\(kindText)'")
                }
                return ProviderCall(
                    runID: runID, kind: kind, request: row["request"], occurrence: row["occurrence"],
                    response: try Self.decodeJSON(row["response"], what: "a provider call of run \(runID)") ?? .null)
            }
        }
    }
}
