import Foundation
import SluiceEngine
import SluiceStore
public import SluiceJSON
public import SluiceRunLog
import Synchronization

/// Sees every run's events and ends, e.g. for `/metrics`.
public protocol RunObserver: Sendable {
    func runStarted(plan: String)
    func runEvent(_ event: RunEvent, plan: String)
    func runFinished(plan: String, status: RunStatus)
}

/// Starts runs, keeps them in a ``RunRegistry``, cancels them, and drains them at shutdown.
///
/// Runs execute inside ``run()``'s task group, not in the request that started them: an HTTP
/// client may disconnect and come back, and the run goes on.
///
/// ```swift
/// let manager = RunManager(executor: executor, registry: InMemoryRunRegistry())
/// async let service: Void = manager.run()
/// let record = try manager.start(plan: plan, inputs: ["task": "AI agents"], user: "alice")
/// let result = await record.waitForResult()
/// ```
public final class RunManager: Sendable {
    public let executor: any RunExecutor
    public let registry: any RunRegistry
    public let observer: (any RunObserver)?
    private let makeRunID: @Sendable () -> String

    private struct Job: Sendable {
        var record: RunRecord
        var request: RunRequest
        var placement: JobPlacement
    }

    private let jobs: AsyncStream<Job>
    private let jobsContinuation: AsyncStream<Job>.Continuation
    public let limits: ServingLimits
    let slots: RunSlots
    private let admission = Mutex(Admission())

    /// Runs started and not finished, per user and in all; whether new runs are taken.
    private struct Admission {
        var accepting = true
        var perUser: [String: Int] = [:]
        var total = 0
    }

    public init(
        executor: any RunExecutor, registry: any RunRegistry = InMemoryRunRegistry(), observer: (any RunObserver)? = nil,
        limits: ServingLimits = ServingLimits(), makeRunID: @escaping @Sendable () -> String = RunManager.randomRunID
    ) {
        self.executor = executor
        self.registry = registry
        self.observer = observer
        self.limits = limits
        self.slots = RunSlots(capacity: limits.concurrentRuns)
        self.makeRunID = makeRunID
        (jobs, jobsContinuation) = AsyncStream.makeStream(of: Job.self)
    }

    @Sendable public static func randomRunID() -> String {
        "run_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    }

    /// Starts a run of `plan` for `user` with prepared inputs (validated, defaults applied). It
    /// executes at once, or after the runs ahead of it when ``ServingLimits/concurrentRuns`` run.
    ///
    /// On a shared queue (a store with a ``SluiceStore/RunQueue``: PostgreSQL) the run is in
    /// the store when this returns — any replica can read it — and the limits are counted
    /// there, across replicas (see ``admitShared(_:plan:queue:)``).
    ///
    /// - Throws: ``RunRefusal``: once ``drain(gracePeriod:)`` has begun, past a limit, or when
    ///   the shared store cannot record the run.
    public func start(plan: ServedPlan, inputs: JSONValue, user: String, services: RunServices = RunServices()) async throws(RunRefusal) -> RunRecord {
        let request = RunRequest(runID: makeRunID(), plan: plan, inputs: inputs, user: user, services: services)
        guard let queue = executor.durable, queue.runQueue != nil, let planBody = plan.plan else {
            try admit(user, checkingLimits: true)
            return enqueue(request, placement: .local)
        }
        return try await admitShared(request, plan: planBody, queue: queue)
    }

    /// Why ``startRecorded(plan:inputs:user:services:)`` started nothing.
    public enum RecordedStartFailure: Error, Sendable {
        case refused(RunRefusal)
        /// The store could not record it (its message).
        case store(String)
    }

    /// Starts a run as ``start(plan:inputs:user:services:)`` does, after recording it in the
    /// executor's durable store (when it has one), so it exists there before it has a place:
    /// an MCP task's handle names a run any replica can read at once, even while
    /// ``ServingLimits/concurrentRuns`` (`--max-runs`) run. It executes here when a place frees.
    public func startRecorded(plan: ServedPlan, inputs: JSONValue, user: String, services: RunServices = RunServices()) async throws(RecordedStartFailure) -> RunRecord {
        // A shared queue records every run before ``start(plan:inputs:user:services:)`` returns.
        guard let durable = executor.durable, durable.runQueue == nil, plan.plan != nil else {
            do { return try await start(plan: plan, inputs: inputs, user: user, services: services) } catch { throw .refused(error) }
        }
        do { try admit(user, checkingLimits: true) } catch { throw .refused(error) }
        let request = RunRequest(runID: makeRunID(), plan: plan, inputs: inputs, user: user, services: services)
        do {
            try await durable.recordAhead(request)
        } catch {
            release(user)
            throw .store(error.message)
        }
        // Recorded as this process's own, it waits here for a place, as an owned run does.
        return enqueue(request, placement: .owned(reserved: false))
    }

    /// Continues the stored run `id` (stopped, e.g. by a restart) from its checkpoints under the
    /// same id, through the executor's durable store; a new record follows it in this process.
    ///
    /// On a shared queue the user's runs are counted in the store, across replicas, as for a
    /// new run: a run that counts already (waiting for an answer, interrupted) is not counted
    /// twice; a failed or cancelled one needs a free place under ``ServingLimits/runsPerUser``,
    /// checked now (a refusal at once) and again as one step with the store's claim.
    ///
    /// - Throws: ``RunRefusal``: as ``start(plan:inputs:user:services:)``.
    public func resume(id: String, plan: ServedPlan, inputs: JSONValue, user: String, services: RunServices = RunServices()) async throws(RunRefusal) -> RunRecord {
        var request = RunRequest(runID: id, plan: plan, inputs: inputs, user: user, services: services, resumesStoredRun: true)
        guard let queue = executor.durable?.runQueue else {
            try admit(user, checkingLimits: true)
            return enqueue(request, placement: .local)
        }
        // This process's places are counted here; the user's runs in the store.
        try admit(user, checkingLimits: true, countingUser: false)
        var refusal: RunRefusal?
        do throws(StoreError) {
            if case .userLimit = try await queue.resumeAdmission(id: id, user: user, runsPerUser: limits.runsPerUser) {
                refusal = .userLimit(limits.runsPerUser)
            }
        } catch {
            refusal = .storeUnavailable(error.message)
        }
        if let refusal {
            release(user)
            throw refusal
        }
        request.claimedWithin = limits.runsPerUser
        return enqueue(request, placement: .local)
    }

    /// The run `id` when it belongs to `user` (nil for someone else's run: they get a 404).
    /// Nil too when its execution here ended at a question (``RunStatus/waiting``): the run
    /// lives in the durable store from then on, and may be resumed by another process.
    public func run(id: String, user: String) -> RunRecord? {
        guard let record = registry.run(id: id), record.user == user, record.status != .waiting else { return nil }
        return record
    }

    public var activeRunCount: Int { registry.activeRuns().count }

    /// Executes the runs started with ``start(plan:inputs:user:services:)`` until the job queue
    /// is closed by ``drain(gracePeriod:)`` or the task is cancelled (which cancels every run).
    public func run() async {
        await withDiscardingTaskGroup { group in
            for await job in jobs {
                group.addTask { await self.execute(job) }
            }
        }
    }

    /// Stops taking runs, lets the running ones finish for `gracePeriod`, then cancels the rest
    /// (each records `run.cancelled` with the reason "server shutting down").
    /// On a shared store (``DurableRunExecutor/handBack`` set) the runs are instead stopped at
    /// once without ending them, to be taken over by another replica (see ``RunHandBack``).
    public func drain(gracePeriod: Duration) async {
        admission.withLock { $0.accepting = false }
        jobsContinuation.finish()
        let active = registry.activeRuns()
        if let handBack = executor.durable?.handBack {
            handBack.begin()
            for record in active { record.cancel(reason: "server shutting down: run handed back to another replica") }
            for record in active { _ = await record.waitForResult() }
            return
        }
        guard !active.isEmpty else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for record in active { _ = await record.waitForResult() }
            }
            group.addTask {
                // A cancelled sleep (everything finished first) also ends the grace period.
                try? await Task.sleep(for: gracePeriod)
                for record in active { record.cancel(reason: "server shutting down") }
            }
            await group.next()
            group.cancelAll()
        }
        for record in active { _ = await record.waitForResult() }
    }

    /// Counts the run of `user` here; `checkingLimits`: refuses it past the limits of this
    /// process (a shared queue counts them in the store instead, see ``admitShared(_:plan:queue:)``)
    /// — the user's own only when `countingUser` (a resume on a shared queue counts them in the store).
    func admit(_ user: String, checkingLimits: Bool, countingUser: Bool = true) throws(RunRefusal) {
        let limits = self.limits
        let refusal = admission.withLock { admission -> RunRefusal? in
            guard admission.accepting else { return .shuttingDown }
            let mine = admission.perUser[user, default: 0]
            if checkingLimits {
                guard mine < limits.runsPerUser || !countingUser else { return .userLimit(limits.runsPerUser) }
                guard admission.total < limits.concurrentRuns + limits.queuedRuns else {
                    return .serverFull(running: limits.concurrentRuns, queued: admission.total - limits.concurrentRuns)
                }
            }
            admission.perUser[user] = mine + 1
            admission.total += 1
            return nil
        }
        if let refusal { throw refusal }
    }

    func release(_ user: String) {
        admission.withLock { admission in
            let mine = admission.perUser[user, default: 1] - 1
            admission.perUser[user] = mine > 0 ? mine : nil
            admission.total -= 1
        }
    }

    /// Whether new runs are still taken (not draining).
    var isAccepting: Bool { admission.withLock { $0.accepting } }

    /// Records `request`'s run here and hands it to ``run()``.
    func enqueue(_ request: RunRequest, placement: JobPlacement) -> RunRecord {
        let record = RunRecord(id: request.runID, planName: request.plan.name, user: request.user, inputs: request.inputs)
        registry.insert(record)
        observer?.runStarted(plan: request.plan.name)
        if case .terminated = jobsContinuation.yield(Job(record: record, request: request, placement: placement)) {
            // Draining began just after a shared store admitted it: never executed.
            record.finish(RunResult(status: .cancelled, errorType: "cancelled", errorMessage: "server shutting down", billing: ["billable": false]))
            if placement != .local, let durable = executor.durable {
                Task { await durable.withdraw(request.runID, queued: placement == .follow) }
            }
        }
        return record
    }

    private func execute(_ job: Job) async {
        let record = job.record
        let request = job.request
        defer { release(record.user) }
        let placedHere: Bool
        switch job.placement {
        case .local, .owned(reserved: false):
            await slots.acquire()
            placedHere = true
        case .owned(reserved: true): placedHere = true
        case .follow: placedHere = false
        }
        defer { if placedHere { slots.release() } }
        // Executed here: as the executor does, or (on a shared queue) recorded already;
        // else followed from the store while another replica executes it.
        let shared = executor.durable
        let placement = job.placement
        let sink = RecordingSink(record: record, observer: observer, plan: record.planName)
        let result: RunResult = await withTaskGroup(of: RunResult?.self) { group in
            group.addTask {
                switch (placement, shared) {
                case (.owned, let shared?): return await shared.executeRecorded(request, sink: sink)
                case (.follow, let shared?): return await shared.follow(request, sink: sink)
                default: return await self.executor.execute(request, sink: sink)
                }
            }
            group.addTask {
                await record.waitForCancelRequest()
                return nil
            }
            var final: RunResult?
            for await outcome in group {
                if let outcome {
                    final = outcome
                    record.releaseCancelWaiter()
                } else if final == nil, record.cancelReason != nil {
                    group.cancelAll()
                }
            }
            return final ?? RunResult(status: .cancelled, errorType: "cancelled", errorMessage: record.cancelReason ?? "cancelled")
        }
        // With a store holding the whole log, the record lets its events go (replays read the
        // store): finished runs kept for followers no longer hold their events in memory.
        let log = await executor.durable?.completeLog(runID: record.id, through: record.lastSeq)
        record.finish(result, log: log)
        observer?.runFinished(plan: record.planName, status: result.status)
    }
}

/// Delivers each event to the run's record, then to the observer.
private struct RecordingSink: EventSink {
    var record: RunRecord
    var observer: (any RunObserver)?
    var plan: String

    func receive(_ event: RunEvent) async {
        await record.receive(event)
        observer?.runEvent(event, plan: plan)
    }
}
