import Foundation
import PostgresNIO
import SluiceJSON
import SluiceRunLog
public import SluiceStore

/// The shared run queue (see ``RunQueue``): a queued run is a `running` row with
/// `queued = TRUE`, no owner and no lease, so readers see it as running and no takeover loop
/// mistakes it for an interrupted one. Replicas claim queued rows with
/// `FOR UPDATE SKIP LOCKED`: two claiming at once skip each other's rows instead of waiting.
extension PostgresRunStore: RunQueue {
    /// Checks the limits and inserts in one transaction under transaction-scoped advisory
    /// locks: the user's own lock (two-key space `userLockSpace`, `hashtext(user)`), so two
    /// replicas admitting runs of one user take turns and the count cannot be passed, while
    /// other users' admissions go on in parallel; and, only when the queued-run limit is
    /// checked (the receiving replica has no free place), the queue's lock as well, always
    /// after the user's (one order: no deadlock). A hash collision only makes two users take
    /// turns. Counting in the same transaction as the insert, under a lock every admission
    /// takes, is what makes it race-free; a plain `INSERT … SELECT … WHERE count < n` is not
    /// under READ COMMITTED (two transactions would both see the old count).
    public func admitRun(_ run: NewRun, as placement: RunPlacement, limits: RunAdmissionLimits) async throws(StoreError) -> RunAdmission {
        let inputs = run.inputs.serialized()
        let options = run.options.serialized()
        let created = run.createdAt.timeIntervalSince1970
        let owner = placement == .owned ? self.owner : nil
        let lease = placement == .owned ? leaseTimeout : nil
        let queued = placement != .owned
        return try await write("record run \(run.id)") { session in
            if let perUser = limits.runsPerUser {
                try await Self.lockUser(run.user, in: session)
                let active = try await Self.activeRuns(of: run.user, excluding: nil, in: session)
                if active >= perUser { return .userLimit(active: active) }
            }
            if let limit = limits.queuedRuns {
                try await session.execute("SELECT pg_advisory_xact_lock(\(Self.queueLock))")
                // Those a live replica could claim (see ``countsAgainstUser``).
                let waiting = try await session.rows("""
                    SELECT count(*) AS n FROM runs WHERE queued AND \(unescaped: Self.countsAgainstUser)
                    """).first?["n"].decode(Int.self) ?? 0
                if waiting >= limit { return .queueFull(queued: waiting) }
            }
            try await session.execute("""
                INSERT INTO runs (id, plan_name, plan_path, plan_hash, inputs, options, user_name, status, created_at, updated_at, queued,
                    owner, lease_expires_at)
                VALUES (\(run.id), \(run.plan.name), \(run.plan.path), \(run.plan.contentHash), \(inputs), \(options), \(run.user), 'running',
                    \(created), \(created), \(queued), \(owner), \(unescaped: PostgresSchema.now) + \(lease))
                """)
            if placement == .queued {
                // Delivered at commit: replicas waiting for work claim it (the payload is a fixed key).
                try await session.execute("SELECT pg_notify(\(PostgresRunStore.eventsChannel), \(RunQueueWakeup.key))")
            }
            return .admitted
        }
    }

    public func claimQueuedRuns(limit: Int, plans: [PlanIdentity]) async throws(StoreError) -> [StoredRun] {
        guard limit > 0, !plans.isEmpty else { return [] }
        let owner = self.owner
        let lease = leaseTimeout
        let names = plans.map(\.name)
        let hashes = plans.map(\.contentHash)
        let claimed = try await write("claim queued runs") { session in
            try await session.rows("""
                UPDATE runs SET queued = FALSE, owner = \(owner), lease_expires_at = \(unescaped: PostgresSchema.now) + \(lease),
                    updated_at = \(Date().timeIntervalSince1970)
                WHERE id IN (
                    SELECT id FROM runs WHERE queued
                        AND (plan_name, plan_hash) IN (SELECT * FROM unnest(\(names)::text[], \(hashes)::text[]))
                    ORDER BY created_at, id LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                RETURNING \(unescaped: Self.runColumns)
                """).map(Self.decodeRun)
        }
        // RETURNING keeps no order: oldest first, as claimed.
        return claimed.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    /// Whether resuming the stored run `id` of `user` stays within `runsPerUser`: a run that
    /// counts already (waiting, interrupted) is admitted; another only while the user's active
    /// runs are fewer. Nothing is reserved: the claim checks again, as one step with itself
    /// (``claimForResume(id:expecting:runsPerUser:)``); this lets a server refuse at once.
    public func resumeAdmission(id: String, user: String, runsPerUser: Int) async throws(StoreError) -> RunAdmission {
        try await read("count the runs of \(user)") { session in
            if try await Self.isActive(id, in: session) != false { return .admitted }
            let active = try await Self.activeRuns(of: user, excluding: id, in: session)
            return active >= runsPerUser ? .userLimit(active: active) : .admitted
        }
    }

    /// Takes `user`'s transaction-scoped admission lock: every count of their runs that
    /// decides an insert or a claim holds it (two-key space `userLockSpace`, `hashtext(user)`).
    static func lockUser(_ user: String, in session: PostgresSession) async throws {
        try await session.execute("SELECT pg_advisory_xact_lock(\(userLockSpace), hashtext(\(user)))")
    }

    /// Whether a run counts against its user's `--runs-per-user` (a condition on a `runs`
    /// row): waiting for an answer, running under a live lease — or, owned by nobody, while a
    /// live replica serves its plan version and so could run it: a queued run while one
    /// claims that version (any `sluice serve` on the queue), an interrupted one while one
    /// takes that version over (not `--no-resume` or `--stdio`). A run no replica could run
    /// would otherwise hold its user's place for ever, and a queued one a place in the queue:
    /// the queued-run limit counts the queued runs that meet it too. An interrupted run counts
    /// again once resumed (a resume of it is admitted as a failed run's is); a queued one once
    /// a replica serving its version starts. Replicas say what they serve with ``serve(_:takingOver:)``.
    static let countsAgainstUser = """
        (status = 'waiting' OR (status = 'running' AND (COALESCE(lease_expires_at >= \(PostgresSchema.now), FALSE) OR EXISTS (
            SELECT 1 FROM served_plans WHERE served_plans.plan_name = runs.plan_name AND served_plans.plan_hash = runs.plan_hash
                AND served_plans.expires_at >= \(PostgresSchema.now) AND (runs.queued OR served_plans.takes_over)))))
        """

    /// How many of `user`'s runs count against `--runs-per-user` (not counting `excluding`;
    /// see ``countsAgainstUser``).
    static func activeRuns(of user: String, excluding id: String?, in session: PostgresSession) async throws -> Int {
        try await session.rows("""
            SELECT count(*) AS n FROM runs WHERE user_name = \(user) AND id IS DISTINCT FROM \(id) AND \(unescaped: countsAgainstUser)
            """).first?["n"].decode(Int.self) ?? 0
    }

    /// Whether run `id` counts against its user's limit now (nil: no such run).
    static func isActive(_ id: String, in session: PostgresSession) async throws -> Bool? {
        try await session.rows("SELECT \(unescaped: countsAgainstUser) AS active FROM runs WHERE id = \(id)").first?["active"].decode(Bool.self)
    }

    /// Says which plan versions this process serves, replacing what it said before of the
    /// same kind: `takingOver` true, the versions whose interrupted runs it takes over; false,
    /// those whose queued runs it claims. Kept in the store while the lease heartbeat renews
    /// them (one lease timeout at a time), so every replica's count can tell a run some
    /// replica could run from one none can (see ``countsAgainstUser``). Kept here first: when
    /// the write fails, the next heartbeat makes it.
    public func serve(_ plans: [PlanIdentity], takingOver: Bool) async throws(StoreError) {
        served.set(plans, takingOver: takingOver)
        let owner = self.owner
        let lease = leaseTimeout
        let served = self.served
        try await write("record the plans this process serves") { session in
            try await session.execute("DELETE FROM served_plans WHERE owner = \(owner)")
            try await Self.renew(served.current ?? [], owner: owner, for: lease, in: session)
        }
    }

    /// Records (or renews) `owner`'s served `plans` for `lease` seconds from now.
    static func renew(_ plans: [(plan: PlanIdentity, takesOver: Bool)], owner: String, for lease: TimeInterval, in session: PostgresSession) async throws {
        guard !plans.isEmpty else { return }
        try await session.execute("""
            INSERT INTO served_plans (owner, plan_name, plan_hash, takes_over, expires_at)
            SELECT \(owner), name, hash, takes_over, \(unescaped: PostgresSchema.now) + \(lease)
            FROM unnest(\(plans.map(\.plan.name))::text[], \(plans.map(\.plan.contentHash))::text[], \(plans.map(\.takesOver))::boolean[])
                AS served (name, hash, takes_over)
            ON CONFLICT (owner, plan_name, plan_hash) DO UPDATE SET expires_at = excluded.expires_at, takes_over = excluded.takes_over
            """)
    }

    /// Ends with `run.failed` (`plan_not_served`) each queued run that no live replica could
    /// claim (none serves its plan version, see ``countsAgainstUser``) for `wait` seconds, so
    /// the client following it gets an end instead of waiting for ever. The wait starts when a
    /// sweep first finds the run without a claimant (`runs.unserved_since`) and starts again
    /// once a replica serving its version lives. One replica sweeps at a time (a
    /// transaction-scoped advisory lock; the others skip their turn), so two sweeps never
    /// lock the same rows in different orders. Returns the ids of the runs it ended.
    public func failUnservedQueuedRuns(after wait: Double) async throws(StoreError) -> [String] {
        let now = Date()
        return try await write("end the queued runs no replica serves") { session in
            guard try await session.rows("SELECT pg_try_advisory_xact_lock(\(Self.unservedSweepLock)) AS mine").first?["mine"].decode(Bool.self) == true else {
                return []
            }
            try await session.execute("""
                UPDATE runs SET unserved_since = NULL WHERE queued AND unserved_since IS NOT NULL AND \(unescaped: Self.countsAgainstUser)
                """)
            try await session.execute("""
                UPDATE runs SET unserved_since = \(unescaped: PostgresSchema.now) WHERE queued AND unserved_since IS NULL AND NOT \(unescaped: Self.countsAgainstUser)
                """)
            let stale = try await session.rows("""
                SELECT \(unescaped: Self.runColumns) FROM runs WHERE queued AND unserved_since <= \(unescaped: PostgresSchema.now) - \(wait)
                ORDER BY id FOR UPDATE SKIP LOCKED
                """).map(Self.decodeRun)
            for run in stale {
                try await session.execute("UPDATE runs SET queued = FALSE WHERE id = \(run.id)")
                let message = "no replica serving version \(run.plan.contentHash) of plan '\(run.plan.name)' took the queued run for \(Int(wait.rounded())) s"
                let failed = RunEvent(
                    seq: run.lastSeq + 1, runID: run.id, time: now, type: .runFailed,
                    data: ["error": ["type": "plan_not_served", "message": .string(message)], "billing": ["billable": false, "units": 0]])
                try await Self.insert([failed], in: session)
            }
            return stale.map(\.id)
        }
    }

    /// Whether the run `id` still waits in the queue (nobody claimed it).
    public func isQueued(id: String) async throws(StoreError) -> Bool {
        try await read("read run \(id)") { session in
            try await session.rows("SELECT queued FROM runs WHERE id = \(id)").first?["queued"].decode(Bool.self) ?? false
        }
    }

    /// The advisory lock space of per-user admission ("slu" in ASCII; the two-key form, apart
    /// from the one-key migration lock).
    static let userLockSpace: Int32 = 0x736C75
    /// The advisory lock of the queued-run limit (one key; not the migration lock's).
    static let queueLock: Int64 = 0x736C_7569_6371
    /// The advisory lock of the sweep of queued runs nobody serves (one key).
    static let unservedSweepLock: Int64 = 0x736C_7569_7573
}
