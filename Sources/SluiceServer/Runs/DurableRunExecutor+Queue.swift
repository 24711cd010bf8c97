import Foundation
public import SluiceEngine
public import SluiceRunLog
import SluiceJSON
import SluiceDurable
import SluicePlan
public import SluiceStore

/// Work distribution on a shared queue (a store opened with a ``RunQueue``: PostgreSQL). Every
/// new run is recorded in the store before its caller is answered
/// (``admit(_:plan:as:limits:)``): claimed by the receiving replica in the same statement when
/// it has a free place, else queued for a replica with room
/// (``RunManager/claimQueuedRuns(library:every:log:)``, executing it with
/// ``runClaimed(_:library:log:)``), while the receiving replica's record follows it from the
/// store (``follow(_:sink:)``), so every transport (REST, the seed routes, MCP call streams)
/// streams it as if it ran there.
extension DurableRunExecutor {
    /// The store's shared run queue, if its backend has one.
    var runQueue: (any RunQueue)? { opened.queue }

    /// Whether `request` may run on another replica: a new run on a shared queue that needs
    /// nothing only this process has — no model sampled through its MCP client, and no one
    /// to answer `confirm` steps here (a channel, or a caller answering by retry, whose run
    /// this replica parks at its question) when the plan (or a plan it calls) may ask.
    func distributes(_ request: RunRequest) -> Bool {
        guard runQueue != nil, !request.resumesStoredRun, let plan = request.plan.plan, request.services.model == nil else { return false }
        guard request.services.confirmation != nil || request.services.answersByRetry else { return true }
        return !plan.allSteps.contains { step in
            switch step.kind {
            case .confirm, .call: true
            default: false
            }
        }
    }

    /// Records the new run of `request` in the shared queue, unless `limits` refuse it (see
    /// ``SluiceStore/RunQueue/admitRun(_:as:limits:)``).
    func admit(_ request: RunRequest, plan: Plan, as placement: RunPlacement, limits: RunAdmissionLimits) async throws(StoreError) -> RunAdmission {
        guard let queue = runQueue else { throw StoreError(.unavailable, "the store \(opened.location) has no shared run queue") }
        return try await queue.admitRun(newRun(request, plan: plan), as: placement, limits: limits)
    }

    /// Ends a run admitted just as this replica began draining, before anything executed it:
    /// `run.cancelled` in the store (a queued one is cancelled there at once), so no replica
    /// takes it up for a caller that was told the server is shutting down.
    func withdraw(_ runID: String, queued: Bool) async {
        if queued {
            _ = try? await store.requestCancel(id: runID)
        } else {
            let ended = RunEvent(seq: 1, runID: runID, time: Date(), type: .runCancelled, data: ["reason": "server shutting down"])
            try? await store.append([ended])
        }
    }

    /// Executes a run recorded already (admitted as this replica's own): composed
    /// as a new run, not recorded again; its events stored before `sink` sees them.
    func executeRecorded(_ request: RunRequest, sink: any EventSink) async -> RunResult {
        guard let plan = request.plan.plan else { return await engine.execute(request, sink: sink) }
        return await execute(request, sink: sink, as: DurableRun(newRunID: request.runID, store: opened, cache: cacheSetting(for: plan)))
    }

    /// Follows a run queued in the store to its end: each stored event goes to `sink` once,
    /// in order, and the stored end becomes the result.
    ///
    /// Cancelling the task asks the store to cancel the run (the replica executing it stops
    /// it, or it ends at once if still queued) and keeps following until `run.cancelled` is
    /// stored; during a hand-back (SIGTERM) it only stops following, the run goes on elsewhere.
    func follow(_ request: RunRequest, sink: any EventSink) async -> RunResult {
        let store = self.store
        let runID = request.runID
        let handBack = self.handBack
        let feed = StoredEventFeed(store: store, wakeups: opened.wakeups, runID: runID, after: 0, resumeWait: interruptedWait, safetyPoll: followPoll)
        // Unstructured, so a cancel request does not end the following: the end is still to come.
        let following = Task {
            while let event = await feed.next() { await sink.receive(event) }
        }
        await withTaskCancellationHandler {
            await following.value
        } onCancel: {
            if handBack?.isHandingBack == true {
                following.cancel()
            } else {
                Task { _ = try? await store.requestCancel(id: runID) }
            }
        }
        if handBack?.isHandingBack == true {
            return RunResult(status: .cancelled, errorType: "cancelled", errorMessage: "server shutting down: the run goes on on another replica")
        }
        do {
            if let run = try await store.run(id: runID), let result = RunResult(stored: run) { return result }
        } catch {
            return RunResult(status: .failed, errorType: "store_unavailable", errorMessage: error.message, billing: ["billable": false])
        }
        return RunResult(
            status: .failed, errorType: "interrupted",
            errorMessage: "run \(runID) stopped on the replica executing it and was not taken over; resume it with sluice runs resume \(runID)",
            billing: ["billable": false])
    }

    /// The record of a new server run, as ``execute(_:sink:)`` makes it; the caller's trace
    /// context goes with it, so the replica that claims it continues that trace.
    func newRun(_ request: RunRequest, plan: Plan) -> NewRun {
        var options = request.services.recordedOptions
        options["origin"] = "server"
        if request.services.answersByRetry { options[Self.answersByRetryOption] = true }
        if let traceparent = request.services.traceparent { options["traceparent"] = .string(traceparent) }
        return NewRun(id: request.runID, plan: PlanIdentity(plan), inputs: request.inputs, options: .object(options), user: request.user)
    }

    /// Executes a run claimed from the queue: its events go to the store only (whoever
    /// follows it reads them there), its provider calls to its ledger, and a cancel request
    /// from any replica stops it. Returns when it has ended (or stopped, handed back).
    func runClaimed(_ run: StoredRun, library: PlanLibrary, log: @escaping @Sendable (String) -> Void) async {
        guard let served = library.plan(named: run.plan.name), let plan = served.plan else {
            // Claims name only served plans; a plan unloaded since cannot run here.
            log("cannot run queued run \(run.id): the plan '\(run.plan.name)' is not served")
            return
        }
        let request = RunRequest(
            runID: run.id, plan: served, inputs: run.inputs, user: run.user,
            services: RunServices(traceparent: run.options["traceparent"]?.stringValue))
        // Recorded already (queued, then claimed): composed as a new run, not recorded again.
        let durable = DurableRun(newRunID: run.id, store: opened, cache: cacheSetting(for: plan))
        var engine = self.engine
        engine.providers = durable.providers(engine.providers)
        let configured = engine
        let gated = gated(durable.storeFirst([]))
        _ = await durable.watchingCancelRequests(every: Self.cancelPollInterval, safetyNet: followPoll) {
            await configured.execute(request, sink: gated, resume: nil)
        }
        if let error = await durable.flush() {
            log("\(durable.storage.unwritten.count) event(s) of run \(run.id) could not be recorded: \(error.message)")
        }
    }
}

extension RunResult {
    /// How a stored run ended, as the run manager reports it; nil while it has not ended.
    init?(stored run: StoredRun) {
        let usage = run.usage ?? .null
        let billing = run.billing ?? .null
        switch run.status {
        case .completed:
            self.init(status: .completed, result: run.result, billing: billing, usage: usage)
        case .failed:
            self.init(
                status: .failed, errorType: run.error?["type"]?.stringValue ?? "failed",
                errorMessage: run.error?["message"]?.stringValue ?? "the run failed", billing: billing, usage: usage)
        case .cancelled:
            self.init(
                status: .cancelled, errorType: run.error?["type"]?.stringValue ?? "cancelled",
                errorMessage: run.error?["message"]?.stringValue ?? "the run was cancelled", billing: billing, usage: usage)
        case .running, .interrupted, .waiting:
            return nil
        }
    }
}
