/// A store several servers share that also distributes the work: every run a server receives
/// is recorded before the server answers (so any server can read it at once) and executed by
/// exactly one server — the receiving one, claiming it as it records it, when it has a free
/// place (``RunPlacement/owned``); else it is queued and whichever server has room claims it
/// (``claimQueuedRuns(limit:plans:)``) — while the receiving server's client follows it from
/// the store. ``SQLiteRunStore`` is not one (one server executes what it receives); the
/// PostgreSQL store is.
///
/// ```swift
/// let admission = try await queue.admitRun(run, as: .queued, limits: RunAdmissionLimits(runsPerUser: 32))
/// for run in try await queue.claimQueuedRuns(limit: 2, plans: [identity]) { execute(run) }
/// ```
public protocol RunQueue: RunStore {
    /// Records a new run unless `limits` refuse it, checking and inserting as one step that
    /// servers admitting runs at once cannot interleave (so a limit holds across all of them).
    /// `.queued`: `running` to readers, owned by nobody, with no lease (so it is never
    /// `interrupted`), and the servers waiting for work are woken (``RunQueueWakeup/key``).
    /// `.owned`: owned and leased by this process at once, like ``RunStore/createRun(_:)``.
    func admitRun(_ run: NewRun, as placement: RunPlacement, limits: RunAdmissionLimits) async throws(StoreError) -> RunAdmission

    /// Claims up to `limit` queued runs, oldest first, for this process, of the plans in
    /// `plans` — the same name AND the same content (``PlanIdentity/contentHash``; the path
    /// may differ), so during a rolling deploy a replica never runs a plan version it does not
    /// have: it leaves the run for one that does. Each becomes owned and leased like a run
    /// created here. Servers claiming at once get different runs (none waits on another's claim).
    func claimQueuedRuns(limit: Int, plans: [PlanIdentity]) async throws(StoreError) -> [StoredRun]

    /// Whether a resume of the stored run `id` of `user` stays within `runsPerUser`, counted
    /// across every server: `.admitted` for a run already counted (waiting, interrupted) and
    /// when the user's other active runs are fewer. A check only, so a server can refuse at
    /// once; the claim checks again as one step with itself
    /// (``RunStore/claimForResume(id:expecting:runsPerUser:)``).
    func resumeAdmission(id: String, user: String, runsPerUser: Int) async throws(StoreError) -> RunAdmission

    /// Says which plan versions this server serves, for as long as it lives, replacing what
    /// it said before of the same kind: `takingOver` true, the versions whose interrupted
    /// runs it takes over; false, those whose queued runs it claims. A queued run counts
    /// against its user's runs and the queued-run limit only while some live server could
    /// claim it; an interrupted one only while some live server could take it over.
    func serve(_ plans: [PlanIdentity], takingOver: Bool) async throws(StoreError)

    /// Ends with `run.failed` (error type `plan_not_served`) each queued run that no live
    /// server could claim for `wait` seconds in a row (none serves its plan version), so its
    /// client gets an end; returns their ids. Servers call it now and then; one at a time sweeps.
    func failUnservedQueuedRuns(after wait: Double) async throws(StoreError) -> [String]
}

extension RunQueue {
    /// Says which plan versions this server takes interrupted runs over for (see
    /// ``serve(_:takingOver:)``).
    public func serve(_ plans: [PlanIdentity]) async throws(StoreError) {
        try await serve(plans, takingOver: true)
    }

    /// Records a new run as queued, with no limit, and wakes the servers waiting for work.
    public func enqueueRun(_ run: NewRun) async throws(StoreError) {
        _ = try await admitRun(run, as: .queued, limits: RunAdmissionLimits())
    }
}

/// How a new run enters a shared queue (see ``RunQueue/admitRun(_:as:limits:)``).
public enum RunPlacement: Sendable, Equatable {
    /// Waiting for any server; the servers waiting for work are woken.
    case queued
    /// Claimed by this process as it is recorded (owned and leased): it has a place for the
    /// run, or only it can execute it.
    case owned
}

/// The limits a run is admitted under, counted in the store across every server sharing it;
/// nil: not checked.
public struct RunAdmissionLimits: Sendable, Equatable {
    /// The user's active runs (queued, running or waiting for an answer) must be fewer.
    public var runsPerUser: Int?
    /// The queued runs (claimed by no server yet) must be fewer.
    public var queuedRuns: Int?

    public init(runsPerUser: Int? = nil, queuedRuns: Int? = nil) {
        self.runsPerUser = runsPerUser
        self.queuedRuns = queuedRuns
    }
}

/// Whether a run was admitted (and recorded), or which limit refused it (nothing recorded).
public enum RunAdmission: Sendable, Equatable {
    case admitted
    /// The user already has `active` runs, the limit.
    case userLimit(active: Int)
    /// `queued` runs already wait, the limit.
    case queueFull(queued: Int)
}

/// The wake-up key of queued runs: a store that sends wake-ups (PostgreSQL's NOTIFY) sends
/// this one when a run is queued. No run has this id (run ids have no colon).
public enum RunQueueWakeup {
    public static let key = ":queued"
}
