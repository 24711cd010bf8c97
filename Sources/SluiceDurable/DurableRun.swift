public import Foundation
public import SluiceEngine
public import SluiceJSON
public import SluicePlan
public import SluiceRunLog
public import SluiceStore

/// One run recorded in a store, composed one way for `sluice run`, `sluice runs resume` and
/// `sluice serve` (new runs, stored-run resumes, takeovers): its id, its providers answered
/// from the response cache and the run's saved calls, its store-first sink, its resume state
/// and the cancel requests it watches for.
///
/// ```swift
/// let run = DurableRun(newRunID: DurableRun.newRunID(), store: opened, cache: plan.cache)
/// try await run.record(plan: PlanIdentity(plan), inputs: inputs, options: options, user: "local")
/// let engine = RunEngine(providers: run.providers(providers), configuration: configuration)
/// let outcome = await run.watchingCancelRequests(every: .milliseconds(250)) {
///     await engine.run(plan: plan, inputs: inputs, sinks: run.sinks([view]), resume: run.resumeState)
/// }
/// if let error = await run.flush() { report(error) }
/// ```
///
/// The engine-touching half of durability lives here, above both the engine and the store;
/// the store (beside the engine) knows only the run log's types (SluiceRunLog).
public struct DurableRun: Sendable {
    public let store: OpenedStore
    public let runID: String
    /// The stopped run this continues, as claimed (nil for a new run).
    public let resumed: PreparedResume?
    /// Saves each provider call, and answers the calls a resumed run already made.
    public let ledger: RunCallLedger
    /// Answers identical requests from the response cache (nil: no cache asked for, or a store
    /// that keeps none).
    public let caching: ResponseCaching?
    /// The store's sink: written before any transport sees an event (see ``sinks(_:)``).
    public let storage: StoreEventSink

    /// A new run with id `newRunID`, not yet in the store (see ``record(plan:inputs:options:user:)``).
    ///
    /// - Parameter cache: the response cache setting (`--cache`, `sluice serve --cache`, or the
    ///   plan's own); nil for none.
    public init(newRunID: String, store: OpenedStore, cache: CacheSetting?) {
        self.init(
            store: store, runID: newRunID, resumed: nil, ledger: RunCallLedger(store: store.runs, runID: newRunID), cache: cache)
    }

    private init(store: OpenedStore, runID: String, resumed: PreparedResume?, ledger: RunCallLedger, cache: CacheSetting?) {
        self.store = store
        self.runID = runID
        self.resumed = resumed
        self.ledger = ledger
        caching = cache.flatMap { setting in store.cache.map { ResponseCaching(cache: $0, timeToLive: setting.timeToLive) } }
        storage = StoreEventSink(store: store.runs)
    }

    /// Claims the stopped run `id` to continue it: its open steps end as `interrupted` in the
    /// log, and the run goes on from its checkpoints, saved calls, usage and next `seq` (see
    /// ``SluiceStore/RunStore/prepareResume(id:expecting:now:)``); with `expecting`, only a
    /// run in that status (an answer continues a `waiting` run, not one cancelled meanwhile).
    ///
    /// - Throws: ``StoreError`` `notFound`, or `conflict` when the run completed or still runs
    ///   (or another process claimed it first, or it is not `expecting`).
    public static func resuming(
        id: String, store: OpenedStore, cache: CacheSetting?, expecting: StoredRunStatus? = nil, runsPerUser: Int? = nil, now: Date = Date()
    ) async throws(StoreError) -> DurableRun {
        let prepared = try await store.runs.prepareResume(id: id, expecting: expecting, runsPerUser: runsPerUser, now: now)
        return DurableRun(store: store, runID: prepared.run.id, resumed: prepared, ledger: prepared.ledger, cache: cache)
    }

    /// A fresh run id (`run_` and 32 hex digits).
    public static func newRunID() -> String {
        "run_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    }

    /// Records the new run as `running`, owned by this process: nothing runs before it is recorded.
    public func record(plan: PlanIdentity, inputs: JSONValue, options: JSONValue, user: String) async throws(StoreError) {
        try await store.runs.createRun(NewRun(id: runID, plan: plan, inputs: inputs, options: options, user: user))
    }

    /// What the engine continues from (nil for a new run).
    public var resumeState: ResumeState? { resumed?.state }

    /// `base`, answering from the response cache, then (outermost) from the run's saved calls.
    public func providers(_ base: RunEngine.Providers) -> RunEngine.Providers {
        var wrapped = base
        if let caching {
            wrapped.model = caching.model(wrapped.model)
            wrapped.search = caching.search(wrapped.search)
        }
        wrapped.model = ledger.model(wrapped.model)
        wrapped.search = ledger.search(wrapped.search)
        return wrapped
    }

    /// The engine's sinks: the store's first, so the bus stores each batch before any of
    /// `others` (each buffered by the bus as usual) sees it.
    public func sinks(_ others: [any EventSink]) -> [any EventSink] {
        [storage] + others
    }

    /// One sink that stores each batch, then hands its events to `downstream`: for a transport
    /// that owns a single sink (the server's run record), so what a client is sent was stored first.
    public func storeFirst(_ downstream: [any EventSink]) -> StoreFirstSink {
        StoreFirstSink(storage: storage, downstream: downstream)
    }

    /// Tries once more to write the events the store still lacks; the error when some are
    /// still unwritten (``storage``'s `unwritten` says how many).
    public func flush() async -> StoreError? {
        await storage.flush()
    }

    /// Runs `work` (the run's execution) in its own task, cancelling it when the store says the
    /// run was asked to stop elsewhere — `sluice runs cancel`, or `DELETE /v1/runs/{id}` on
    /// another replica sharing the store — so it ends with `run.cancelled` as an in-process
    /// cancel does. Cancelling the calling task (Ctrl-C) cancels `work` too.
    ///
    /// The flag is read every `interval`; a store that cannot be read only delays the check
    /// (the run reports store failures itself). A store with wake-ups (PostgreSQL) says when a
    /// cancel was requested, so the flag is read then, and only every `safetyNet` besides (a
    /// wake-up lost with a dropped connection is made up for when listening starts again).
    public func watchingCancelRequests<T: Sendable>(
        every interval: Duration, safetyNet: Duration = .seconds(5), _ work: @escaping @Sendable () async -> T
    ) async -> T {
        let running = Task { await work() }
        let store = self.store.runs
        let runID = self.runID
        let wakeups = self.store.wakeups
        let watcher = Task {
            let key = RunCancelWakeup.key(runID: runID)
            var seen = wakeups?.watchEvents(runID: key)
            defer { wakeups?.unwatchEvents(runID: key) }
            // Asked before the watch began: no wake-up will come for it.
            if seen != nil, (try? await store.isCancelRequested(id: runID)) == true {
                running.cancel()
                return
            }
            while !Task.isCancelled {
                if let wakeups, let generation = seen {
                    await wakeups.waitForEvents(runID: key, seen: generation, timeout: safetyNet)
                    seen = wakeups.eventGeneration(runID: key)
                } else {
                    do { try await Task.sleep(for: interval) } catch { return }
                }
                if Task.isCancelled { return }
                if (try? await store.isCancelRequested(id: runID)) == true {
                    running.cancel()
                    return
                }
            }
        }
        let result = await withTaskCancellationHandler {
            await running.value
        } onCancel: {
            running.cancel()
        }
        watcher.cancel()
        return result
    }
}

extension PlanIdentity {
    /// The identity a run records of `plan`: its name, its file's standardized path and the
    /// hash of its text (a resume warns when the plan changed since).
    public init(_ plan: Plan) {
        self.init(
            name: plan.name, path: URL(fileURLWithPath: plan.source.path).standardizedFileURL.path,
            contentHash: ContentHash.hex(of: plan.source.bytes))
    }
}
