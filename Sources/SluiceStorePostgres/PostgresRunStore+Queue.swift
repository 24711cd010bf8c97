import Foundation
import PostgresNIO
import SluiceJSON
public import SluiceStore

/// The shared run queue (see ``RunQueue``): a queued run is a `running` row with
/// `queued = TRUE`, no owner and no lease, so readers see it as running and no takeover loop
/// mistakes it for an interrupted one. Replicas claim queued rows with
/// `FOR UPDATE SKIP LOCKED`: two claiming at once skip each other's rows instead of waiting.
extension PostgresRunStore: RunQueue {
    public func enqueueRun(_ run: NewRun) async throws(StoreError) {
        let inputs = run.inputs.serialized()
        let options = run.options.serialized()
        let created = run.createdAt.timeIntervalSince1970
        try await write("queue run \(run.id)") { session in
            try await session.execute("""
                INSERT INTO runs (id, plan_name, plan_path, plan_hash, inputs, options, user_name, status, created_at, updated_at, queued)
                VALUES (\(run.id), \(run.plan.name), \(run.plan.path), \(run.plan.contentHash), \(inputs), \(options), \(run.user), 'running',
                    \(created), \(created), TRUE)
                """)
            // Delivered at commit: replicas waiting for work claim it (the payload is a fixed key).
            try await session.execute("SELECT pg_notify(\(PostgresRunStore.eventsChannel), \(RunQueueWakeup.key))")
        }
    }

    public func claimQueuedRuns(limit: Int, plans: [String]) async throws(StoreError) -> [StoredRun] {
        guard limit > 0, !plans.isEmpty else { return [] }
        let owner = self.owner
        let lease = leaseTimeout
        let claimed = try await write("claim queued runs") { session in
            try await session.rows("""
                UPDATE runs SET queued = FALSE, owner = \(owner), lease_expires_at = \(unescaped: PostgresSchema.now) + \(lease),
                    updated_at = \(Date().timeIntervalSince1970)
                WHERE id IN (
                    SELECT id FROM runs WHERE queued AND plan_name = ANY(\(plans))
                    ORDER BY created_at, id LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                RETURNING \(unescaped: Self.runColumns)
                """).map(Self.decodeRun)
        }
        // RETURNING keeps no order: oldest first, as claimed.
        return claimed.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    /// Whether the run `id` still waits in the queue (nobody claimed it).
    public func isQueued(id: String) async throws(StoreError) -> Bool {
        try await read("read run \(id)") { session in
            try await session.rows("SELECT queued FROM runs WHERE id = \(id)").first?["queued"].decode(Bool.self) ?? false
        }
    }
}
