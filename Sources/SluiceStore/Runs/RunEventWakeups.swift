/// A store that tells followers when a run's log grows (PostgreSQL: LISTEN/NOTIFY), so a
/// follower (the server's `StoredEventFeed`) waits for a wake-up instead of polling every
/// 200 ms; it still polls now and then as a safety net.
public protocol RunEventWakeups: Sendable {
    /// Starts counting wake-ups of `runID`; returns the current count. Pair with ``unwatchEvents(runID:)``.
    func watchEvents(runID: String) -> Int
    func unwatchEvents(runID: String)
    /// The count of wake-ups of `runID` so far.
    func eventGeneration(runID: String) -> Int
    /// Returns when the count differs from `seen`, after `timeout`, or when cancelled.
    func waitForEvents(runID: String, seen: Int, timeout: Duration) async
}
// Wake-ups of the empty run id (no run has it) say "a replica handed its runs back"; the
// server's takeover loop waits for them (`DurableRunExecutor.takeOverInterrupted`).

/// A store whose runs are held by leases that run out (PostgreSQL, shared by replicas): a
/// stopping server gives its runs' leases back so another replica takes them over at once.
public protocol RunLeases: Sendable {
    /// Gives back the leases of the runs this process owns; they read as interrupted at once.
    func releaseLeases() async throws(StoreError)
}

/// The wake-up key a cancel request of run `runID` sends (`sluice runs cancel`, `DELETE
/// /v1/runs/{id}` on any replica): the process executing the run waits on it instead of
/// reading the run's cancel flag over and over. No run id has a colon, so it names no run.
public enum RunCancelWakeup {
    public static func key(runID: String) -> String { "cancel:" + runID }
}
