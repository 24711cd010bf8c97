public import Foundation
import GRDB
import SluiceJSON
import SluiceRunLog

/// Run records: create, read, list, claim for a resume, cancel, prune.
extension SQLiteRunStore {
    public func createRun(_ run: NewRun) async throws(StoreError) {
        let owner = self.owner
        let inputs = run.inputs.serialized()
        let options = run.options.serialized()
        try await write("record run \(run.id)") { db in
            try db.execute(
                sql: """
                    INSERT INTO runs (id, plan_name, plan_path, plan_hash, inputs, options, user, status, created_at, updated_at, owner)
                    VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?)
                    """,
                arguments: [
                    run.id, run.plan.name, run.plan.path, run.plan.contentHash, inputs, options, run.user,
                    run.createdAt.timeIntervalSince1970, run.createdAt.timeIntervalSince1970, owner,
                ])
        }
    }

    public func run(id: String) async throws(StoreError) -> StoredRun? {
        try await read("read run \(id)") { db in
            try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [id]).map(Self.decodeRun)
        }
    }

    public var location: String { path }

    public func run(matching prefix: String) async throws(StoreError) -> StoredRun {
        let rows = try await read("find run \(prefix)") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM runs WHERE id = ? OR id LIKE ? ESCAPE '\\' ORDER BY id LIMIT 3", arguments: [prefix, RunIDPrefix.likePattern(prefix)])
                .map(Self.decodeRun)
        }
        return try RunIDPrefix.pick(prefix, from: rows, location: path)
    }

    public func runs(_ filter: RunFilter) async throws(StoreError) -> [StoredRun] {
        var clauses: [String] = []
        var arguments: StatementArguments = []
        if let user = filter.user {
            clauses.append("user = ?")
            arguments += [user]
        }
        if let plan = filter.plan {
            clauses.append("plan_name = ?")
            arguments += [plan]
        }
        if let session = filter.taskSession {
            clauses.append("json_extract(options, '$.\(MCPTaskRecord.optionKey).session') = ?")
            arguments += [session]
        }
        // `interrupted` is derived from `running`, so filter those after reading.
        if let status = filter.status {
            clauses.append("status = ?")
            arguments += [status == .interrupted ? StoredRunStatus.running.rawValue : status.rawValue]
        }
        let whereClause = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        let sql = "SELECT * FROM runs \(whereClause) ORDER BY created_at DESC, id DESC LIMIT ?"
        arguments += [max(1, filter.limit)]
        let finalArguments = arguments
        let runs = try await read("list runs") { db in
            try Row.fetchAll(db, sql: sql, arguments: finalArguments).map(Self.decodeRun)
        }
        guard let status = filter.status else { return runs }
        return runs.filter { $0.status == status }
    }

    /// One writer at a time (a write transaction): `runsPerUser` is counted and the run claimed
    /// without another process's claim in between.
    public func claimForResume(id: String, expecting: StoredRunStatus?, runsPerUser: Int?) async throws(StoreError) -> StoredRun {
        let owner = self.owner
        let now = Date().timeIntervalSince1970
        return try await write("claim run \(id) for a resume") { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [id]) else {
                throw StoreError(.notFound, "no run '\(id)' to resume (see sluice runs list)")
            }
            let run = try Self.decodeRun(row)
            if let refusal = run.resumeRefusal(expecting: expecting) { throw refusal }
            if let runsPerUser, ![.waiting, .interrupted].contains(run.status) {
                let active = try Int.fetchOne(
                    db, sql: "SELECT count(*) FROM runs WHERE user = ? AND status IN ('running', 'waiting') AND id != ?",
                    arguments: [run.user, id]) ?? 0
                if active >= runsPerUser { throw StoredRun.userLimitRefusal(id: id, active: active) }
            }
            try db.execute(
                sql: """
                    UPDATE runs SET status = 'running', owner = ?, cancel_requested = 0, finished_at = NULL, pending_input = NULL,
                        resumes = resumes + 1, updated_at = ? WHERE id = ?
                    """,
                arguments: [owner, now, id])
            guard let claimed = try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [id]) else {
                throw StoreError(.notFound, "run \(id) disappeared while being claimed")
            }
            return try Self.decodeRun(claimed)
        }
    }

    public func requestCancel(id: String) async throws(StoreError) -> StoredRun {
        let now = Date()
        return try await write("cancel run \(id)") { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [id]) else {
                throw StoreError(.notFound, "no run '\(id)' to cancel (see sluice runs list)")
            }
            var run = try Self.decodeRun(row)
            switch run.status {
            case .completed, .failed, .cancelled:
                return run
            case .running:
                try db.execute(sql: "UPDATE runs SET cancel_requested = 1, updated_at = ? WHERE id = ?", arguments: [now.timeIntervalSince1970, id])
                run.cancelRequested = true
                return run
            case .interrupted, .waiting:
                // Nobody will write the end of this run: record it here, as the log's last event.
                let event = RunEvent(
                    seq: run.lastSeq + 1, runID: id, time: now, type: .runCancelled,
                    data: ["reason": .string(run.status.cancelReason)])
                try Self.insert([EncodedEvent(event)], in: db)
                return try Self.decodeRun(try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [id]) ?? row)
            }
        }
    }

    public func releaseWaiting(id: String, question: PendingInput) async throws(StoreError) {
        let owner = self.owner
        let pending = question.jsonValue.serialized()
        let now = Date().timeIntervalSince1970
        try await write("park run \(id) at its question") { db in
            try db.execute(
                sql: """
                    UPDATE runs SET status = 'waiting', owner = NULL, pending_input = ?, updated_at = ?
                    WHERE id = ? AND status = 'running' AND owner = ?
                    """,
                arguments: [pending, now, id, owner])
            guard db.changesCount == 1 else {
                let exists = try Bool.fetchOne(db, sql: "SELECT 1 FROM runs WHERE id = ?", arguments: [id]) ?? false
                throw exists ? StoredRunStatus.notParkable(id) : StoreError(.notFound, "no run '\(id)' to park at its question")
            }
        }
    }

    public func isCancelRequested(id: String) async throws(StoreError) -> Bool {
        try await read("read run \(id)") { db in
            // Cached: every running run asks twice a second.
            try Bool.fetchOne(db.cachedStatement(sql: "SELECT cancel_requested FROM runs WHERE id = ?"), arguments: [id]) ?? false
        }
    }

    public func deleteRuns(finishedBefore date: Date) async throws(StoreError) -> Int {
        try await write("prune runs") { db in
            try db.execute(
                sql: "DELETE FROM runs WHERE status NOT IN ('running', 'waiting') AND updated_at < ?", arguments: [date.timeIntervalSince1970])
            return db.changesCount
        }
    }

    // MARK: Decoding

    static func decodeRun(_ row: Row) throws -> StoredRun {
        let id: String = row["id"]
        let statusText: String = row["status"]
        guard var status = StoredRunStatus(rawValue: statusText) else {
            throw StoreError(.invalidData, "run \(id) has an unknown status '\(statusText)'")
        }
        let owner: String? = row["owner"]
        if status == .running, let owner, !ProcessOwner.isAlive(owner) { status = .interrupted }
        return StoredRun(
            id: id,
            plan: PlanIdentity(name: row["plan_name"], path: row["plan_path"], contentHash: row["plan_hash"]),
            inputs: try decodeJSON(row["inputs"], what: "inputs of run \(id)") ?? .object(JSONObject()),
            options: try decodeJSON(row["options"], what: "options of run \(id)") ?? .object(JSONObject()),
            user: row["user"],
            status: status,
            createdAt: Date(timeIntervalSince1970: row["created_at"]),
            updatedAt: Date(timeIntervalSince1970: row["updated_at"]),
            finishedAt: (row["finished_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
            result: try decodeJSON(row["result"], what: "result of run \(id)"),
            error: try decodeJSON(row["error"], what: "error of run \(id)"),
            usage: try decodeJSON(row["usage"], what: "usage of run \(id)"),
            billing: try decodeJSON(row["billing"], what: "billing of run \(id)"),
            lastSeq: row["last_seq"],
            resumes: row["resumes"],
            owner: owner,
            cancelRequested: row["cancel_requested"],
            pendingInput: status == .waiting ? try decodeJSON(row["pending_input"], what: "question of run \(id)").flatMap(PendingInput.init(json:)) : nil
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
