import Foundation
import PostgresNIO
import SluiceJSON
public import SluiceRunLog
public import SluiceStore

/// The event log, step checkpoints and provider calls.
extension PostgresRunStore {
    /// Waits for the group commit (``PostgresEventWriter``) that stores `events`.
    public func append(_ events: [RunEvent]) async throws(StoreError) {
        guard !events.isEmpty else { return }
        try await writer.append(events)
    }

    /// Appends to the log after checking that `seq` continues it with no gap and no repeat,
    /// saves the checkpoints, and records the run's end when an end event is among them
    /// (``insert(runs:in:)``, one statement); a refused run's error is thrown.
    static func insert(_ events: [RunEvent], in session: PostgresSession) async throws {
        var runs: [(runID: String, events: [RunEvent])] = []
        for event in events {
            if let index = runs.firstIndex(where: { $0.runID == event.runID }) { runs[index].events.append(event) } else { runs.append((event.runID, [event])) }
        }
        let failures = try await insert(runs: runs, in: session)
        if let failed = runs.first(where: { failures[$0.runID] != nil }) { throw failures[failed.runID]! }
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
