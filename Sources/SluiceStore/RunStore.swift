public import Foundation
public import SluiceJSON
public import SluiceRunLog

/// Where runs are kept for good: their records, append-only event logs, checkpoints and the
/// provider calls made inside them.
///
/// Every method is async and every type is ours (no database types), so a PostgreSQL store
/// for several servers implements the same protocol. ``SQLiteRunStore`` is the embedded one;
/// `PostgresRunStore` (module SluiceStorePostgres) the shared one.
///
/// ```swift
/// let store = try SQLiteRunStore(home: SluiceHome.resolve())
/// try await store.createRun(NewRun(id: id, plan: .init(name: plan.name, path: plan.source.path, contentHash: hash), inputs: inputs))
/// let outcome = await engine.run(plan: plan, inputs: inputs, sinks: [StoreEventSink(store: store), view])
/// ```
///
/// #### Errors
/// ``StoreError``: `locked` (another process holds the database past the busy timeout),
/// `corrupt`, `notFound`, `conflict`, `io`, `unavailable` (a database server that cannot be
/// reached). A store never drops a write silently.
public protocol RunStore: Sendable {
    /// Where the runs are kept, to tell people: a file path, or a database URL without its
    /// password.
    var location: String { get }

    /// Records a new run as `running`, owned by this process.
    func createRun(_ run: NewRun) async throws(StoreError)
    func run(id: String) async throws(StoreError) -> StoredRun?
    /// Finds a run by its id or a unique prefix of it (for people typing ids).
    ///
    /// - Throws: `notFound` when nothing matches, `conflict` when the prefix is ambiguous.
    func run(matching prefix: String) async throws(StoreError) -> StoredRun
    /// Runs matching `filter`, newest first.
    func runs(_ filter: RunFilter) async throws(StoreError) -> [StoredRun]

    /// Appends events (in `seq` order, continuing the run's log) and the step checkpoints they
    /// carry, in one transaction; an end event also records how the run ended.
    ///
    /// - Throws: `conflict` when a `seq` is already in the log (nothing twice).
    func append(_ events: [RunEvent]) async throws(StoreError)
    /// The events of a run with `seq` after `after`, at most `limit`, in order.
    func events(runID: String, after: Int, limit: Int?) async throws(StoreError) -> [RunEvent]

    /// The step checkpoints of a run, by key.
    func checkpoints(runID: String) async throws(StoreError) -> [String: StepCheckpoint]
    /// Saves one finished provider call of a run (see ``ProviderCall``).
    func saveProviderCall(_ call: ProviderCall) async throws(StoreError)
    func providerCalls(runID: String) async throws(StoreError) -> [ProviderCall]

    /// Takes over a stopped run for a resume: it becomes `running`, owned by this process.
    ///
    /// `expecting` claims it only in that status: an answer resumes a `waiting` run, never
    /// one cancelled between the answer's arrival and its claim.
    ///
    /// With `runsPerUser`, a run that does not count among its user's active runs now (it
    /// failed or was cancelled) is claimed only while the user's active runs are fewer — checked
    /// and claimed as one step that other processes admitting or claiming runs of the user
    /// cannot interleave; a `waiting` or interrupted run counts already and is not counted twice.
    ///
    /// - Throws: `conflict` when the run is completed, still running in a live process, or
    ///   not in the `expecting` status; `limit` when `runsPerUser` refuses it.
    func claimForResume(id: String, expecting: StoredRunStatus?, runsPerUser: Int?) async throws(StoreError) -> StoredRun
    /// Asks a run to stop. A run whose process is gone is marked cancelled at once; a live one
    /// sees the request (``isCancelRequested(id:)``) and ends with `run.cancelled`.
    /// Returns the run as it is now.
    func requestCancel(id: String) async throws(StoreError) -> StoredRun
    /// Parks a run this process runs at a question its caller answers by retrying (MCP
    /// 2026-07-28 input requests and tasks): it becomes `waiting`, owned by nobody (no lease),
    /// with `question` kept beside it. Its log and checkpoints stay as they are; whoever brings
    /// the answer claims it with ``claimForResume(id:expecting:)``, on any process sharing the store.
    ///
    /// - Throws: `notFound`; `conflict` when the run is not running in this process.
    func releaseWaiting(id: String, question: PendingInput) async throws(StoreError)
    func isCancelRequested(id: String) async throws(StoreError) -> Bool
    /// Deletes finished runs (with their events, checkpoints and calls) last updated before `date`.
    func deleteRuns(finishedBefore date: Date) async throws(StoreError) -> Int
}

extension RunStore {
    /// Claims a stopped run for a resume with no limit (see
    /// ``claimForResume(id:expecting:runsPerUser:)``).
    public func claimForResume(id: String, expecting: StoredRunStatus?) async throws(StoreError) -> StoredRun {
        try await claimForResume(id: id, expecting: expecting, runsPerUser: nil)
    }
}

/// A run's status in the store.
public enum StoredRunStatus: String, Sendable, Hashable, CaseIterable {
    case running, completed, failed, cancelled
    /// Stopped without an end: the process owning it is gone (killed, crashed). Derived when a
    /// `running` run's owner is no longer alive; never written.
    case interrupted
    /// Stopped at a question its caller answers by retrying (see ``RunStore/releaseWaiting(id:question:)``):
    /// nobody runs it, and the answer continues it from its checkpoints on any process.
    case waiting

    public var isFinished: Bool { self != .running && self != .waiting }
    /// Whether `sluice runs resume` can continue it.
    public var isResumable: Bool { self == .failed || self == .cancelled || self == .interrupted }
}

/// The plan a run runs: its name, where it was loaded from and a hash of its text, so a resume
/// can tell when the plan changed since.
public struct PlanIdentity: Sendable, Hashable {
    public var name: String
    public var path: String
    /// FNV-1a 64 of the plan file's bytes, hex (see ``ContentHash``).
    public var contentHash: String

    public init(name: String, path: String, contentHash: String) {
        self.name = name
        self.path = path
        self.contentHash = contentHash
    }
}

/// What a store needs to start recording a run.
public struct NewRun: Sendable {
    public var id: String
    public var plan: PlanIdentity
    public var inputs: JSONValue
    /// How it was started, so a resume runs it the same way (e.g. the CLI's `offline`,
    /// `models` overrides and `cache`).
    public var options: JSONValue
    /// Who started it (the server's API-key user; `local` for the CLI).
    public var user: String
    public var createdAt: Date

    public init(
        id: String, plan: PlanIdentity, inputs: JSONValue, options: JSONValue = .object(JSONObject()), user: String = "local",
        createdAt: Date = Date()
    ) {
        self.id = id
        self.plan = plan
        self.inputs = inputs
        self.options = options
        self.user = user
        self.createdAt = createdAt
    }
}

/// A run as the store keeps it.
public struct StoredRun: Sendable {
    public var id: String
    public var plan: PlanIdentity
    public var inputs: JSONValue
    public var options: JSONValue
    public var user: String
    public var status: StoredRunStatus
    public var createdAt: Date
    public var updatedAt: Date
    public var finishedAt: Date?
    /// The plan's output (completed runs).
    public var result: JSONValue?
    /// `{type, message, step?}` of a failed run.
    public var error: JSONValue?
    /// The usage totals of the run's end event.
    public var usage: JSONValue?
    public var billing: JSONValue?
    /// The last `seq` in the run's log (0 before any event).
    public var lastSeq: Int
    /// How many times it was resumed.
    public var resumes: Int
    /// The process running it (`pid@host`), while it runs.
    public var owner: String?
    public var cancelRequested: Bool
    /// The question a `waiting` run waits on (nil in every other status).
    public var pendingInput: PendingInput?

    public init(
        id: String, plan: PlanIdentity, inputs: JSONValue, options: JSONValue = .object(JSONObject()), user: String, status: StoredRunStatus,
        createdAt: Date, updatedAt: Date, finishedAt: Date? = nil, result: JSONValue? = nil, error: JSONValue? = nil,
        usage: JSONValue? = nil, billing: JSONValue? = nil, lastSeq: Int = 0, resumes: Int = 0, owner: String? = nil,
        cancelRequested: Bool = false, pendingInput: PendingInput? = nil
    ) {
        self.id = id
        self.plan = plan
        self.inputs = inputs
        self.options = options
        self.user = user
        self.status = status
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.finishedAt = finishedAt
        self.result = result
        self.error = error
        self.usage = usage
        self.billing = billing
        self.lastSeq = lastSeq
        self.resumes = resumes
        self.owner = owner
        self.cancelRequested = cancelRequested
        self.pendingInput = pendingInput
    }
}

extension StoredRunStatus {
    /// The reason in the `run.cancelled` a store writes for a run nobody runs (interrupted or waiting).
    public var cancelReason: String {
        self == .waiting
            ? "cancelled while it waited for its caller's answer"
            : "cancelled with sluice runs cancel after its process had stopped"
    }

    /// ``RunStore/releaseWaiting(id:question:)`` on a run this process does not run.
    public static func notParkable(_ id: String) -> StoreError {
        StoreError(.conflict, "run \(id) is not running in this process; it cannot wait for an answer here")
    }
}

extension StoredRun {
    /// Why a store refuses to claim this run for a resume (nil: it may be resumed). Every
    /// backend says it the same way.
    public var resumeRefusal: StoreError? { resumeRefusal(expecting: nil) }

    /// The refusal of a resume of run `id` whose user has `active` runs, the limit.
    public static func userLimitRefusal(id: String, active: Int) -> StoreError {
        StoreError(.limit, "run \(id) was not resumed: its user already has \(active) runs going (the per-user limit)")
    }

    /// Why this run cannot be claimed for a resume that expects it `expecting` (any stopped
    /// run when nil); nil when it can.
    public func resumeRefusal(expecting: StoredRunStatus?) -> StoreError? {
        if let expecting, status != expecting, status != .running, status != .completed {
            return StoreError(.conflict, "run \(id) is \(status.rawValue), no longer \(expecting.rawValue); it was not resumed")
        }
        return switch status {
        case .completed:
            StoreError(.conflict, "run \(id) already completed; there is nothing to resume")
        case .running:
            StoreError(.conflict, "run \(id) is still running in process \(owner ?? "?"); cancel it first (sluice runs cancel \(id))")
        case .failed, .cancelled, .interrupted, .waiting:
            nil
        }
    }
}

/// Which runs to list.
public struct RunFilter: Sendable {
    public var user: String?
    public var status: StoredRunStatus?
    public var plan: String?
    /// Only the MCP tasks of this session (runs whose options name it, see ``MCPTaskRecord``).
    public var taskSession: String?
    public var limit: Int

    public init(user: String? = nil, status: StoredRunStatus? = nil, plan: String? = nil, taskSession: String? = nil, limit: Int = 50) {
        self.user = user
        self.status = status
        self.plan = plan
        self.taskSession = taskSession
        self.limit = limit
    }
}

/// One finished provider call inside a run: a resumed run answers the same request (the
/// `occurrence`-th time it is made) from here instead of paying for it again.
public struct ProviderCall: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case model, search
    }

    public var runID: String
    public var kind: Kind
    /// The canonical request (see ``RequestKey``).
    public var request: String
    /// 1 for the first identical request in the run, 2 for the second…
    public var occurrence: Int
    /// The response as JSON (see ``ProviderCodec``).
    public var response: JSONValue

    public init(runID: String, kind: Kind, request: String, occurrence: Int, response: JSONValue) {
        self.runID = runID
        self.kind = kind
        self.request = request
        self.occurrence = occurrence
        self.response = response
    }
}
