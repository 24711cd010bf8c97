/// A store several servers share that also distributes the work: a run received by a server
/// with no free place is recorded as queued, and whichever server has room claims it (oldest
/// first, each run by one server only) and executes it, while the receiving server's client
/// follows it from the store. ``SQLiteRunStore`` is not one (one server executes what it
/// receives); the PostgreSQL store is.
///
/// ```swift
/// try await queue.enqueueRun(NewRun(id: id, plan: identity, inputs: inputs, user: "alice"))
/// for run in try await queue.claimQueuedRuns(limit: 2, plans: ["news_report"]) { execute(run) }
/// ```
///
/// A server with a free place records the run it just received as its own at once
/// (``RunStore/createRun(_:)``): it is claimed as it is queued, with no wait.
public protocol RunQueue: RunStore {
    /// Records a new run as queued: `running` to readers, owned by nobody, with no lease (so it
    /// is never `interrupted`), and wakes the servers waiting for work
    /// (``RunQueueWakeup/key``).
    func enqueueRun(_ run: NewRun) async throws(StoreError)

    /// Claims up to `limit` queued runs of the plans named in `plans`, oldest first, for this
    /// process: each becomes owned and leased like a run created here. Servers claiming at
    /// once get different runs (none waits on another's claim).
    func claimQueuedRuns(limit: Int, plans: [String]) async throws(StoreError) -> [StoredRun]
}

/// The wake-up key of queued runs: a store that sends wake-ups (PostgreSQL's NOTIFY) sends
/// this one when a run is queued. No run has this id (run ids have no colon).
public enum RunQueueWakeup {
    public static let key = ":queued"
}
