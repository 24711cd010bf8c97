public import Foundation
import PostgresNIO
import SluiceJSON
import SluiceRunLog
public import SluiceStore

/// Run records: create, read, list, claim for a resume, cancel, prune.
extension PostgresRunStore {
    /// Every column of `runs`, and whether the run's lease has expired by the database's clock.
    static let runColumns = "*, COALESCE(lease_expires_at < \(PostgresSchema.now), FALSE) AS lease_expired"

    public func createRun(_ run: NewRun) async throws(StoreError) {
        let owner = self.owner
        let lease = leaseTimeout
        let inputs = run.inputs.serialized()
        let options = run.options.serialized()
        let created = run.createdAt.timeIntervalSince1970
        try await write("record run \(run.id)") { session in
            try await session.execute("""
                INSERT INTO runs (id, plan_name, plan_path, plan_hash, inputs, options, user_name, status, created_at, updated_at, owner, lease_expires_at)
                VALUES (\(run.id), \(run.plan.name), \(run.plan.path), \(run.plan.contentHash), \(inputs), \(options), \(run.user), 'running',
                    \(created), \(created), \(owner), \(unescaped: PostgresSchema.now) + \(lease))
                """)
        }
    }

    public func run(id: String) async throws(StoreError) -> StoredRun? {
        try await read("read run \(id)") { session in
            try await session.rows("SELECT \(unescaped: Self.runColumns) FROM runs WHERE id = \(id)").first.map(Self.decodeRun)
        }
    }

    public func run(matching prefix: String) async throws(StoreError) -> StoredRun {
        let pattern = RunIDPrefix.likePattern(prefix)
        let rows = try await read("find run \(prefix)") { session in
            try await session.rows("""
                SELECT \(unescaped: Self.runColumns) FROM runs WHERE id = \(prefix) OR id LIKE \(pattern) ESCAPE '\\' ORDER BY id LIMIT 3
                """).map(Self.decodeRun)
        }
        return try RunIDPrefix.pick(prefix, from: rows, location: location)
    }

    public func runs(_ filter: RunFilter) async throws(StoreError) -> [StoredRun] {
        var sql = "SELECT \(Self.runColumns) FROM runs WHERE TRUE"
        var binds = PostgresBindings()
        if let user = filter.user {
            binds.append(user)
            sql += " AND user_name = $\(binds.count)"
        }
        if let plan = filter.plan {
            binds.append(plan)
            sql += " AND plan_name = $\(binds.count)"
        }
        if let session = filter.taskSession {
            binds.append(session)
            sql += " AND (options::jsonb -> '\(MCPTaskRecord.optionKey)' ->> 'session') = $\(binds.count)"
        }
        // `interrupted` is derived from `running`, so filter those after reading.
        if let status = filter.status {
            binds.append(status == .interrupted ? StoredRunStatus.running.rawValue : status.rawValue)
            sql += " AND status = $\(binds.count)"
        }
        binds.append(max(1, filter.limit))
        sql += " ORDER BY created_at DESC, id DESC LIMIT $\(binds.count)"
        let query = PostgresQuery(unsafeSQL: sql, binds: binds)
        let runs = try await read("list runs") { session in try await session.rows(query).map(Self.decodeRun) }
        guard let status = filter.status else { return runs }
        return runs.filter { $0.status == status }
    }

    /// With `runsPerUser`, the user's advisory lock is taken before the run's row lock (the
    /// order ``admitRun(_:as:limits:)`` keeps too), so the count and the claim are one step.
    public func claimForResume(id: String, expecting: StoredRunStatus?, runsPerUser: Int?) async throws(StoreError) -> StoredRun {
        let owner = self.owner
        let lease = leaseTimeout
        return try await write("claim run \(id) for a resume") { session in
            if runsPerUser != nil, let user = try await session.rows("SELECT user_name FROM runs WHERE id = \(id)").first {
                try await Self.lockUser(try user["user_name"].decode(String.self), in: session)
            }
            // The row lock makes two replicas claiming the same run take turns: the second
            // sees it running (and leased) and gets `conflict`.
            guard let row = try await session.rows("SELECT \(unescaped: Self.runColumns) FROM runs WHERE id = \(id) FOR UPDATE").first else {
                throw StoreError(.notFound, "no run '\(id)' to resume (see sluice runs list)")
            }
            let run = try Self.decodeRun(row)
            if let refusal = run.resumeRefusal(expecting: expecting) { throw refusal }
            if let runsPerUser, try await Self.isActive(id, in: session) == false {
                let active = try await Self.activeRuns(of: run.user, excluding: id, in: session)
                if active >= runsPerUser { throw StoredRun.userLimitRefusal(id: id, active: active) }
            }
            guard let claimed = try await session.rows("""
                UPDATE runs SET status = 'running', owner = \(owner), lease_expires_at = \(unescaped: PostgresSchema.now) + \(lease),
                    cancel_requested = FALSE, finished_at = NULL, pending_input = NULL, resumes = resumes + 1, updated_at = \(Date().timeIntervalSince1970)
                WHERE id = \(id) RETURNING \(unescaped: Self.runColumns)
                """).first
            else { throw StoreError(.notFound, "run \(id) disappeared while being claimed") }
            return try Self.decodeRun(claimed)
        }
    }

    public func requestCancel(id: String) async throws(StoreError) -> StoredRun {
        let now = Date()
        return try await write("cancel run \(id)") { session in
            guard let row = try await session.rows("SELECT \(unescaped: Self.runColumns) FROM runs WHERE id = \(id) FOR UPDATE").first else {
                throw StoreError(.notFound, "no run '\(id)' to cancel (see sluice runs list)")
            }
            var run = try Self.decodeRun(row)
            switch run.status {
            case .completed, .failed, .cancelled:
                return run
            case .running where try row["queued"].decode(Bool.self):
                // Still queued: no replica executes it, so it ends here (and can no longer be claimed).
                try await session.execute("UPDATE runs SET queued = FALSE WHERE id = \(id)")
                return try await Self.recordCancel(of: run, reason: "cancelled while queued, before any replica took it", at: now, in: session)
            case .running:
                try await session.execute("UPDATE runs SET cancel_requested = TRUE, updated_at = \(now.timeIntervalSince1970) WHERE id = \(id)")
                // Wakes the replica executing it (delivered at commit, after the flag is set).
                try await session.execute("SELECT pg_notify(\(PostgresRunStore.eventsChannel), \(RunCancelWakeup.key(runID: id)))")
                run.cancelRequested = true
                return run
            case .interrupted, .waiting:
                // Nobody will write the end of this run: record it here, as the log's last event.
                return try await Self.recordCancel(of: run, reason: run.status.cancelReason, at: now, in: session)
            }
        }
    }

    /// Ends a run nobody executes with `run.cancelled`, the log's last event.
    private static func recordCancel(of run: StoredRun, reason: String, at now: Date, in session: PostgresSession) async throws -> StoredRun {
        let event = RunEvent(seq: run.lastSeq + 1, runID: run.id, time: now, type: .runCancelled, data: ["reason": .string(reason)])
        try await insert([event], in: session)
        guard let ended = try await session.rows("SELECT \(unescaped: runColumns) FROM runs WHERE id = \(run.id)").first else { return run }
        return try decodeRun(ended)
    }

    /// Gives up the leases of every run this process holds (SIGTERM on `sluice serve`): with no
    /// owner and a lease already run out, they read as `interrupted` at once and any replica
    /// may take them over. Call it only once this process has stopped them.
    public func releaseLeases() async throws(StoreError) {
        let owner = self.owner
        served.clear()
        try await write("give up the leases of this process's runs") { session in
            try await session.execute("""
                UPDATE runs SET owner = NULL, lease_expires_at = \(unescaped: PostgresSchema.now) - 1
                WHERE owner = \(owner) AND status = 'running'
                """)
            // It takes nothing over any more: its runs count while another replica could.
            try await session.execute("DELETE FROM served_plans WHERE owner = \(owner)")
            // Wakes the takeover loops of the other replicas (the payload `handBackKey`).
            try await session.execute("SELECT pg_notify(\(PostgresRunStore.eventsChannel), \(PostgresRunStore.handBackKey))")
        }
    }

    public func releaseWaiting(id: String, question: PendingInput) async throws(StoreError) {
        let owner = self.owner
        let pending = question.jsonValue.serialized()
        try await write("park run \(id) at its question") { session in
            let parked = try await session.rows("""
                UPDATE runs SET status = 'waiting', owner = NULL, lease_expires_at = NULL, pending_input = \(pending),
                    updated_at = \(Date().timeIntervalSince1970)
                WHERE id = \(id) AND status = 'running' AND owner = \(owner) RETURNING id
                """)
            guard parked.isEmpty else { return }
            let exists = try await !session.rows("SELECT id FROM runs WHERE id = \(id)").isEmpty
            throw exists ? StoredRunStatus.notParkable(id) : StoreError(.notFound, "no run '\(id)' to park at its question")
        }
    }

    public func isCancelRequested(id: String) async throws(StoreError) -> Bool {
        try await read("read run \(id)") { session in
            try await session.rows("SELECT cancel_requested FROM runs WHERE id = \(id)").first?["cancel_requested"].decode(Bool.self) ?? false
        }
    }

    public func deleteRuns(finishedBefore date: Date) async throws(StoreError) -> Int {
        try await write("prune runs") { session in
            try await session.rows("""
                WITH deleted AS (DELETE FROM runs WHERE status NOT IN ('running', 'waiting') AND updated_at < \(date.timeIntervalSince1970) RETURNING 1)
                SELECT count(*)::bigint AS n FROM deleted
                """).first?["n"].decode(Int.self) ?? 0
        }
    }

    // MARK: Decoding

    static func decodeRun(_ row: PostgresRandomAccessRow) throws -> StoredRun {
        let id = try row["id"].decode(String.self)
        let statusText = try row["status"].decode(String.self)
        guard var status = StoredRunStatus(rawValue: statusText) else {
            throw StoreError(.invalidData, "run \(id) has an unknown status '\(statusText)'")
        }
        let owner = try row["owner"].decode(String?.self)
        if status == .running {
            // A run is interrupted when its lease ran out (its process stopped renewing it, on
            // any machine) or, sooner, when its process on this machine is gone.
            if try row["lease_expired"].decode(Bool.self) || owner.map(ProcessOwner.isAlive) == false { status = .interrupted }
        }
        return StoredRun(
            id: id,
            plan: PlanIdentity(
                name: try row["plan_name"].decode(String.self), path: try row["plan_path"].decode(String.self),
                contentHash: try row["plan_hash"].decode(String.self)),
            inputs: try decodeJSON(row["inputs"].decode(String.self), what: "inputs of run \(id)") ?? .object(JSONObject()),
            options: try decodeJSON(row["options"].decode(String.self), what: "options of run \(id)") ?? .object(JSONObject()),
            user: try row["user_name"].decode(String.self),
            status: status,
            createdAt: Date(timeIntervalSince1970: try row["created_at"].decode(Double.self)),
            updatedAt: Date(timeIntervalSince1970: try row["updated_at"].decode(Double.self)),
            finishedAt: try row["finished_at"].decode(Double?.self).map(Date.init(timeIntervalSince1970:)),
            result: try decodeJSON(row["result"].decode(String?.self), what: "result of run \(id)"),
            error: try decodeJSON(row["error"].decode(String?.self), what: "error of run \(id)"),
            usage: try decodeJSON(row["usage"].decode(String?.self), what: "usage of run \(id)"),
            billing: try decodeJSON(row["billing"].decode(String?.self), what: "billing of run \(id)"),
            lastSeq: try row["last_seq"].decode(Int.self),
            resumes: try row["resumes"].decode(Int.self),
            owner: owner,
            cancelRequested: try row["cancel_requested"].decode(Bool.self),
            pendingInput: status == .waiting
                ? try decodeJSON(row["pending_input"].decode(String?.self), what: "question of run \(id)").flatMap(PendingInput.init(json:)) : nil
        )
    }

    static func decodeJSON(_ text: String?, what: String) throws -> JSONValue? {
        guard let text else { return nil }
        do {
            return try JSONParser.parse(text)
        } catch {
            throw StoreError(.invalidData, "the stored \(what) is not JSON: \(error.message)")
        }
    }
}
