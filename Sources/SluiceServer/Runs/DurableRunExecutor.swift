import Foundation
import SluiceDurable
import SluiceEngine
import SluiceJSON
public import SluicePlan
public import SluiceRunLog
public import SluiceStore
import Synchronization

/// Records every run the server executes in a durable store: the run (with its user), its
/// events — each batch stored before the transport's sink sees it, so a client can always
/// replay what it was sent — its step checkpoints and its provider calls. `sluice runs`
/// then lists server runs too, and `sluice runs resume` can continue one that was stopped.
///
/// ```swift
/// let executor = DurableRunExecutor(engine: EngineRunExecutor(providers: providers), store: OpenedStore(try SQLiteRunStore(home: home)))
/// let manager = RunManager(executor: executor)
/// ```
public struct DurableRunExecutor: RunExecutor {
    public var engine: EngineRunExecutor
    /// The store, with what its backend offers (response cache, MCP sessions, wake-ups, leases).
    public var opened: OpenedStore
    /// `sluice serve --cache`: every run reuses responses. When nil, each plan's own `cache`
    /// setting decides.
    public var cacheAll: CacheSetting?
    /// Set on a shared store: SIGTERM hands the runs back instead of cancelling them.
    public var handBack: RunHandBack?
    /// On a shared queue (``RunQueue``), how a run queued here and executed elsewhere is
    /// followed: the safety-net poll between wake-ups (`SLUICE_STORE_FOLLOW_POLL`), and how
    /// long it is waited for while interrupted (its executing replica died; another takes it
    /// over when the lease runs out). The same poll backs up the cancel wake-ups of a run
    /// executing here (see ``SluiceDurable/DurableRun/watchingCancelRequests(every:safetyNet:_:)``).
    public var followPoll: Duration = .seconds(2)
    public var interruptedWait: Duration = .seconds(60)

    public init(engine: EngineRunExecutor, store: OpenedStore, cacheAll: CacheSetting? = nil) {
        self.engine = engine
        self.opened = store
        self.cacheAll = cacheAll
    }

    /// Where runs are recorded.
    public var store: any RunStore { opened.runs }

    /// Itself: it is the durable executor (see ``RunExecutor/durable``).
    public var durable: DurableRunExecutor? { self }

    /// The response cache setting of a run of `plan`: the server's (`--cache`), else the plan's.
    func cacheSetting(for plan: Plan) -> CacheSetting? {
        cacheAll ?? plan.cache
    }

    public func execute(_ request: RunRequest, sink: any EventSink) async -> RunResult {
        guard let plan = request.plan.plan else { return await engine.execute(request, sink: sink) }
        if request.resumesStoredRun { return await resumeStored(request, plan: plan, sink: sink) }
        let durable = DurableRun(newRunID: request.runID, store: opened, cache: cacheSetting(for: plan))
        do {
            var options = request.services.recordedOptions
            options["origin"] = "server"
            if request.services.answersByRetry { options[Self.answersByRetryOption] = true }
            try await durable.record(plan: PlanIdentity(plan), inputs: request.inputs, options: .object(options), user: request.user)
        } catch {
            // Never run what cannot be recorded: the client is told why.
            return RunResult(status: .failed, errorType: "store_unavailable", errorMessage: error.message, billing: ["billable": false, "units": 0])
        }
        return await execute(request, sink: sink, as: durable)
    }

    /// Records a new run in the store before it has a place (see
    /// ``RunManager/startRecorded(plan:inputs:user:services:)``; executed later by
    /// ``executeRecorded(_:sink:)``): a `running` run owned by this process, with no event yet.
    func recordAhead(_ request: RunRequest) async throws(StoreError) {
        guard let plan = request.plan.plan else { return }
        try await store.createRun(newRun(request, plan: plan))
    }

    /// Parks a released run in the store as `waiting` at `question`. A run cancelled while it
    /// was being released lost its `run.cancelled` to the release: it is cancelled in the store
    /// now. Both kinds of cancel are looked at once the run is parked, so none slips between
    /// the release and the park: its record's here (`cancelled`, or this task cancelled since —
    /// the run manager cancels it) and a request in the store (any process; one made after
    /// the park finds the run `waiting` and ends it itself).
    func park(_ runID: String, at question: PendingInput, cancelled: Bool = false) async -> RunResult {
        do throws(StoreError) {
            try await store.releaseWaiting(id: runID, question: question)
            // This task is cancelled exactly when its run was: both stores answer a read made
            // in a cancelled task (a refusal here left the parked run `waiting`, its cancel
            // request unseen; see `StoreFailureTests.readsAreAnsweredInACancelledTask`).
            let requested = try await store.isCancelRequested(id: runID)
            if cancelled || Task.isCancelled || requested {
                _ = try await store.requestCancel(id: runID)
                return RunResult(status: .cancelled, errorType: "cancelled", errorMessage: "the run was cancelled", billing: ["billable": false])
            }
        } catch {
            FileHandle.standardError.write(Data("sluice serve: run \(runID) could not be parked at its question: \(error.message)\n".utf8))
            return RunResult(status: .failed, errorType: "store_unavailable", errorMessage: error.message, billing: ["billable": false])
        }
        return RunResult(
            status: .waiting, errorType: "input_required", errorMessage: "waiting for the caller's answer to step '\(question.step)'",
            billing: ["billable": false])
    }
}

extension DurableRunExecutor {
    /// Continues the server runs a stopped server left interrupted (`sluice serve` does this
    /// when it starts, unless `--no-resume`): each from its checkpoints, its log continuing
    /// with the next `seq`, so `GET /v1/runs/{id}/events` replays and then follows it.
    ///
    /// Returns when they have all ended; cancelling the task cancels them (each records
    /// `run.cancelled`). Problems are reported through `log`, never silently skipped.
    public func resumeInterrupted(library: PlanLibrary, log: @escaping @Sendable (String) -> Void) async {
        let interrupted: [StoredRun]
        do {
            interrupted = try await store.runs(RunFilter(status: .interrupted, limit: 1000))
        } catch {
            log("cannot look for interrupted runs: \(error.message)")
            return
        }
        // A run stopped at a question its caller answers by retry (MCP 2026-07-28) waits for
        // that answer: resumed now, its confirm step would take its fallback without asking.
        var serverRuns: [StoredRun] = []
        for run in interrupted where run.options["origin"] == "server" {
            if await parkIfAsking(run, log: log) { continue }
            serverRuns.append(run)
        }
        await withDiscardingTaskGroup { group in
            for run in serverRuns {
                group.addTask { await self.resume(run, library: library, log: log) }
            }
        }
    }

    /// Keeps taking over the server runs other processes left interrupted, for a store that
    /// several replicas share: every `interval`, the runs whose owner is gone (their lease ran
    /// out, or their process on this machine died) are resumed here, each by one replica only
    /// (claiming locks the run). Returns when cancelled; the runs it resumed are cancelled then.
    public func takeOverInterrupted(library: PlanLibrary, every interval: Duration, log: @escaping @Sendable (String) -> Void) async {
        await takeOverInterrupted(library: library, every: interval, places: nil, log: log)
    }

    /// The same, each run taken over holding one of `places` (the server's `--max-runs`):
    /// with none free, the rest are left for another replica, or for the next look.
    ///
    /// Only runs of the plan versions this replica serves (name and content hash, as a
    /// queued run is claimed) are taken over; on a shared queue those versions are recorded
    /// in the store for as long as this replica lives, so a run left interrupted that no
    /// replica could take over stops counting against its user's runs (see
    /// ``SluiceStore/RunQueue/serve(_:takingOver:)``).
    func takeOverInterrupted(library: PlanLibrary, every interval: Duration, places: RunSlots?, log: @escaping @Sendable (String) -> Void) async {
        let identities = library.plans.compactMap { $0.plan.map(PlanIdentity.init) }
        let served = Set(identities.map(\.version))
        if let queue = runQueue {
            do throws(StoreError) {
                try await queue.serve(identities, takingOver: true)
            } catch {
                log("cannot record the plans this replica serves (its lease heartbeat tries again): \(error.message)")
            }
        }
        let taken = TakenRuns()
        // On a store with wake-ups, a replica handing its runs back (SIGTERM) ends the wait.
        let wakeups = opened.wakeups
        _ = wakeups?.watchEvents(runID: handBackKey)
        defer { wakeups?.unwatchEvents(runID: handBackKey) }
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled {
                let seen = wakeups?.eventGeneration(runID: handBackKey)
                var found: [StoredRun] = []
                do throws(StoreError) {
                    found = try await store.runs(RunFilter(status: .interrupted, limit: 1000))
                } catch {
                    log("cannot look for interrupted runs: \(error.message)")
                }
                for run in found where run.options["origin"] == "server" && run.owner != ProcessOwner.current {
                    guard served.contains(run.plan.version) else {
                        if taken.otherVersions.withLock({ $0.insert(run.id).inserted }) {
                            log("run \(run.id) was not resumed here: this replica serves another version of '\(run.plan.name)' (or none); left for one serving its version")
                        }
                        continue
                    }
                    guard taken.ids.withLock({ $0.insert(run.id).inserted }) else { continue }
                    if await parkIfAsking(run, log: log) {
                        taken.ids.withLock { _ = $0.remove(run.id) }
                        continue
                    }
                    guard places?.tryAcquire() ?? true else {
                        taken.ids.withLock { _ = $0.remove(run.id) }
                        break
                    }
                    group.addTask {
                        await self.resume(run, library: library, log: log)
                        places?.release()
                        taken.ids.withLock { _ = $0.remove(run.id) }
                    }
                }
                if let wakeups, let seen {
                    await wakeups.waitForEvents(runID: handBackKey, seen: seen, timeout: interval)
                    if Task.isCancelled { break }
                } else {
                    do { try await Task.sleep(for: interval) } catch { break }
                }
            }
            group.cancelAll()
        }
    }

    private func resume(_ run: StoredRun, library: PlanLibrary, log: @escaping @Sendable (String) -> Void) async {
        guard let plan = library.plan(named: run.plan.name)?.plan else {
            log("cannot resume run \(run.id): the plan '\(run.plan.name)' is not served")
            return
        }
        let durable: DurableRun
        do {
            durable = try await DurableRun.resuming(id: run.id, store: opened, cache: cacheSetting(for: plan))
        } catch {
            // `conflict`: another process claimed it first (or it ended meanwhile): it is theirs.
            log(error.code == .conflict ? "run \(run.id) was not resumed here: \(error.message)" : "cannot resume run \(run.id): \(error.message)")
            return
        }
        log("resuming run \(run.id) (\(run.plan.name)) from seq \(durable.resumeState.map { String($0.nextSeq) } ?? "?")")
        let runEngine = RunEngine(providers: durable.providers(engine.providers), configuration: engine.configuration)
        let sinks: [any EventSink] = [gated(durable.storage)]
        let outcome = await durable.watchingCancelRequests(every: Self.cancelPollInterval, safetyNet: followPoll) {
            await runEngine.run(plan: plan, inputs: run.inputs, sinks: sinks, resume: durable.resumeState)
        }
        if let error = await durable.flush() {
            log("\(durable.storage.unwritten.count) event(s) of run \(run.id) could not be recorded: \(error.message)")
        }
        log("resumed run \(run.id) \(outcome.status.rawValue)")
    }
}

extension DurableRunExecutor {
    /// `sink`, cut off when the runs are handed back (see ``RunHandBack``).
    func gated(_ sink: any EventBatchSink) -> any EventBatchSink {
        handBack?.gate(sink) ?? sink
    }

    /// The run option marking runs whose `confirm` answers come with the caller's retry.
    public static let answersByRetryOption = "answers_by_retry"

    /// Continues a stored run — a `waiting` one with the answer its caller's retry brought (on
    /// this server, another sharing the store, or after a restart), or one the web page
    /// resumes: claims it, closes its dangling steps, and runs on from its checkpoints with the
    /// request's services, its events going to the store and to `sink`.
    func resumeStored(_ request: RunRequest, plan: Plan, sink: any EventSink) async -> RunResult {
        let durable: DurableRun
        do {
            // An answer continues the run only while it waits: one cancelled since stays so.
            durable = try await DurableRun.resuming(
                id: request.runID, store: opened, cache: cacheSetting(for: plan), expecting: request.services.answer == nil ? nil : .waiting,
                runsPerUser: request.claimedWithin)
        } catch {
            // `limit`: another resume or run of the user took the last place since the check.
            return RunResult(
                status: .failed, errorType: error.code == .limit ? "user_limit" : "resume_failed", errorMessage: error.message, billing: ["billable": false])
        }
        return await execute(request, sink: sink, as: durable)
    }

    /// Executes `request` as `durable` (a new run, recorded, or a stored one, claimed): its
    /// events stored before `sink` sees them, cut off on a hand-back, cancelled by a request
    /// in the store. A run that answers by retry is released at its first unanswered question
    /// (see ``WaitRelease``) and parked as `waiting`.
    func execute(_ request: RunRequest, sink: any EventSink, as durable: DurableRun) async -> RunResult {
        var engine = self.engine
        engine.providers = durable.providers(engine.providers)
        let configured = engine
        var request = request
        let release = request.services.answersByRetry ? WaitRelease() : nil
        if let release { request.services.confirmation = RetryConfirmation(release: release, answer: request.services.answer) }
        let prepared = request
        let recorded = gated(durable.storeFirst([sink]))
        let gated: any EventBatchSink = release?.gate(recorded) ?? recorded
        let running = Task {
            await durable.watchingCancelRequests(every: Self.cancelPollInterval, safetyNet: followPoll) {
                await configured.execute(prepared, sink: gated, resume: durable.resumeState)
            }
        }
        release?.onRelease { running.cancel() }
        let result = await withTaskCancellationHandler {
            await running.value
        } onCancel: {
            running.cancel()
        }
        if let error = await durable.flush() {
            FileHandle.standardError.write(Data("sluice serve: \(durable.storage.unwritten.count) event(s) of run \(request.runID) could not be recorded: \(error.message)\n".utf8))
        }
        guard let question = release?.question else { return result }
        return await park(request.runID, at: question, cancelled: Task.isCancelled)
    }
}

extension DurableRunExecutor {
    /// A run stopped (its process killed) after storing its question but before being parked:
    /// parked now as `waiting`, claimed first so one process does it. False for any other run.
    func parkIfAsking(_ run: StoredRun, log: @escaping @Sendable (String) -> Void) async -> Bool {
        guard let asked = await waitingQuestion(of: run), let step = asked.step else { return false }
        let question = PendingInput(
            seq: asked.seq, step: step, message: asked.data["message"]?.stringValue ?? "Continue with step '\(step)'?",
            details: asked.data["details"] ?? .null)
        do {
            _ = try await store.claimForResume(id: run.id, expecting: nil)
        } catch {
            log(error.code == .conflict ? "run \(run.id) was not parked here: \(error.message)" : "cannot park run \(run.id): \(error.message)")
            return true
        }
        if await park(run.id, at: question).status == .waiting { log("run \(run.id) waits for its caller's answer to step '\(step)'") }
        return true
    }

    /// The `input.requested` event an interrupted run that answers by retrying stopped at: its
    /// last one, with nothing started after it (see ``parkIfAsking(_:log:)``).
    func waitingQuestion(of run: StoredRun) async -> RunEvent? {
        guard run.options[Self.answersByRetryOption] == true, run.status.isResumable,
            let tail = try? await store.events(runID: run.id, after: max(0, run.lastSeq - 50), limit: nil),
            let asked = tail.last(where: { $0.type == .inputRequested })
        else { return nil }
        let continued = tail.contains { $0.seq > asked.seq && [.stepStarted, .stepCompleted, .runCompleted].contains($0.type) }
        return continued ? nil : asked
    }
}

/// The wake-up key of runs handed back (see ``RunEventWakeups``).
private let handBackKey = ""

/// The runs this process is resuming, so a scan does not start one twice.
private final class TakenRuns: Sendable {
    let ids = Mutex<Set<String>>([])
    /// Runs of plan versions this replica does not serve, said once each.
    let otherVersions = Mutex<Set<String>>([])
}

extension PlanIdentity {
    /// Name and content: what a replica must serve to take a run of this plan over.
    var version: [String] { [name, contentHash] }
}

extension DurableRunExecutor {
    /// How often a running run looks at the store's cancel flag.
    static let cancelPollInterval = Duration.milliseconds(500)
}
