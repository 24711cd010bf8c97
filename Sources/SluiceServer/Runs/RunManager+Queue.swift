import SluiceDurable
import SluiceEngine
import SluicePlan
import SluiceStore

/// Where a started run executes (see ``RunManager/start(plan:inputs:user:services:)``).
enum JobPlacement: Sendable, Equatable {
    /// No shared queue (SQLite, no store, a stored-run resume): it waits for a place here and
    /// the executor records it as it starts.
    case local
    /// Queued in the shared store for whichever replica has room: followed from the store.
    case follow
    /// Recorded as this replica's own: it had a free place (reserved: `reserved`), or the run
    /// needs what only this process has (a model sampled through the caller's MCP client,
    /// someone here to answer its `confirm` steps), or it was recorded before it had a place
    /// (an MCP task on a store without a queue), and waits here for a place.
    case owned(reserved: Bool)

    var isOwned: Bool {
        if case .owned = self { return true }
        return false
    }
}

extension RunManager {
    /// Admits a new run on a shared queue: the limits are counted in the store, across every
    /// replica sharing it — the user's active runs against ``ServingLimits/runsPerUser``, and,
    /// when no place is free here, the runs waiting in the store against
    /// ``ServingLimits/queuedRuns`` — and the run is recorded in the same step, before the
    /// caller answers. A free place here is reserved first: with one, the run is recorded
    /// already claimed by this replica (owned and leased, in the same statement: no added
    /// latency, and never counted as waiting); without one, it is queued and the replicas are
    /// woken, whichever has room claiming it with `FOR UPDATE SKIP LOCKED`.
    func admitShared(_ request: RunRequest, plan: Plan, queue: DurableRunExecutor) async throws(RunRefusal) -> RunRecord {
        let reserved = slots.tryAcquire()
        let distributed = queue.distributes(request)
        // A run only this replica can execute, with no place free, waits here: this process's
        // own queue limit applies to it.
        do {
            try admit(request.user, checkingLimits: !distributed && !reserved)
        } catch {
            if reserved { slots.release() }
            throw error
        }
        let limits = RunAdmissionLimits(runsPerUser: self.limits.runsPerUser, queuedRuns: distributed && !reserved ? self.limits.queuedRuns : nil)
        var refusal: RunRefusal?
        do throws(StoreError) {
            switch try await queue.admit(request, plan: plan, as: distributed && !reserved ? .queued : .owned, limits: limits) {
            case .admitted: refusal = nil
            case .userLimit: refusal = .userLimit(self.limits.runsPerUser)
            case .queueFull(let queued): refusal = .queueFull(queued: queued)
            }
        } catch {
            refusal = .storeUnavailable(error.message)
        }
        let queued = distributed && !reserved
        if refusal == nil, !isAccepting {
            // Draining began meanwhile: the run is ended in the store, never executed.
            await queue.withdraw(request.runID, queued: queued)
            refusal = .shuttingDown
        }
        if let refusal {
            release(request.user)
            if reserved { slots.release() }
            throw refusal
        }
        return enqueue(request, placement: queued ? .follow : .owned(reserved: reserved))
    }

    /// On a shared queue (the executor's store is a ``RunQueue``), takes queued runs — received
    /// by any replica with no free place — whenever this one has room: as many runs as it has
    /// free places of ``ServingLimits/concurrentRuns`` (`--max-runs`) are claimed, oldest
    /// first, and each executed here in one of them (see ``DurableRunExecutor/runClaimed(_:library:log:)``).
    ///
    /// It looks again when a run is queued anywhere (the store's wake-up,
    /// ``RunQueueWakeup/key``), when a place frees up here while full, and every `interval`
    /// as a safety net. Returns at once without a shared queue; else when cancelled or once the
    /// manager drains and the runs it claimed have ended; cancelling it cancels them (during a
    /// hand-back they stop without an end, for another replica to take over).
    public func claimQueuedRuns(library: PlanLibrary, every interval: Duration, log: @escaping @Sendable (String) -> Void) async {
        guard let executor = executor.durable, let queue = executor.runQueue else { return }
        // By name and content: a replica never claims a run of a plan version it does not serve.
        let plans = library.plans.compactMap { $0.plan.map(PlanIdentity.init) }
        // Recorded for as long as this replica lives: a queued run counts against its user and
        // the queued-run limit only while some replica could claim it (see ``RunQueue/serve(_:takingOver:)``).
        do throws(StoreError) {
            try await queue.serve(plans, takingOver: false)
        } catch {
            log("cannot record the plans this replica serves (its lease heartbeat tries again): \(error.message)")
        }
        let wakeups = executor.opened.wakeups
        _ = wakeups?.watchEvents(runID: RunQueueWakeup.key)
        defer { wakeups?.unwatchEvents(runID: RunQueueWakeup.key) }
        let slots = self.slots
        let unservedTimeout = limits.unservedQueuedRunTimeout
        var nextSweep = ContinuousClock.now
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled && isAccepting {
                let seen = wakeups?.eventGeneration(runID: RunQueueWakeup.key)
                // Now and then (a quarter of the timeout, at most a minute apart): queued runs
                // no live replica could claim for that long end, so their clients get an end.
                if ContinuousClock.now >= nextSweep {
                    nextSweep = ContinuousClock.now + .seconds(min(max(unservedTimeout / 4, 0.1), 60))
                    do throws(StoreError) {
                        for id in try await queue.failUnservedQueuedRuns(after: unservedTimeout) {
                            log("queued run \(id) failed: no replica serving its plan version took it for \(Int(unservedTimeout.rounded())) s")
                        }
                    } catch {
                        log("cannot end the queued runs no replica serves: \(error.message)")
                    }
                }
                // Free places are counted, not taken: a run received here meanwhile keeps its
                // place instead of being queued because an empty claim held it.
                let places = min(Self.claimBatch, slots.available)
                guard places > 0 else {
                    // Full: nothing can be claimed until a place frees up.
                    await Self.race(interval) { await slots.waitUntilFree() }
                    continue
                }
                var claimed: [StoredRun] = []
                do throws(StoreError) {
                    claimed = try await queue.claimQueuedRuns(limit: places, plans: plans)
                } catch {
                    log("cannot claim queued runs: \(error.message)")
                }
                for run in claimed {
                    // Taken now, so the next count sees it; a run received since the count may
                    // have taken it first: then this one waits here for the next free place.
                    let placed = slots.tryAcquire()
                    group.addTask {
                        if !placed { await slots.acquire() }
                        defer { slots.release() }
                        await executor.runClaimed(run, library: library, log: log)
                    }
                }
                // A full batch: more may be waiting.
                if claimed.count == places { continue }
                if let wakeups, let seen {
                    await wakeups.waitForEvents(runID: RunQueueWakeup.key, seen: seen, timeout: interval)
                } else {
                    do { try await Task.sleep(for: interval) } catch { break }
                }
            }
            // Draining: the claimed runs go on until they end or the task is cancelled (after a
            // hand-back has begun, so they stop without recording an end).
        }
    }

    /// Keeps taking over the server runs replicas that died left interrupted (see
    /// ``DurableRunExecutor/takeOverInterrupted(library:every:log:)``), each holding one of
    /// this replica's places (`--max-runs`) like a run it received. Returns at once without a
    /// durable store.
    public func takeOverInterrupted(library: PlanLibrary, every interval: Duration, log: @escaping @Sendable (String) -> Void) async {
        await executor.durable?.takeOverInterrupted(library: library, every: interval, places: slots, log: log)
    }

    /// Runs claimed in one statement at most.
    static let claimBatch = 8

    /// Returns when `body` returns or after `timeout`, whichever comes first.
    private static func race(_ timeout: Duration, _ body: @escaping @Sendable () async -> Void) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await body() }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }
}
