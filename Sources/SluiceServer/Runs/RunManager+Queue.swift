import SluiceEngine
import SluiceStore

extension RunManager {
    /// On a shared queue (the executor's store is a ``RunQueue``), takes queued runs — received
    /// by any replica with no free place — whenever this one has room: a free place of
    /// ``ServingLimits/concurrentRuns`` (`--max-runs`) is taken first, then as many runs claimed,
    /// oldest first, and each executed here (see ``DurableRunExecutor/runClaimed(_:library:log:)``).
    ///
    /// It looks again when a run is queued anywhere (the store's wake-up,
    /// ``RunQueueWakeup/key``), when a place frees up here while full, and every `interval`
    /// as a safety net. Returns at once without a shared queue; else when cancelled or once the
    /// manager drains and the runs it claimed have ended; cancelling it cancels them (during a
    /// hand-back they stop without an end, for another replica to take over).
    public func claimQueuedRuns(library: PlanLibrary, every interval: Duration, log: @escaping @Sendable (String) -> Void) async {
        guard let executor = executor as? DurableRunExecutor, let queue = executor.runQueue else { return }
        let plans = library.plans.map(\.name)
        let wakeups = executor.opened.wakeups
        _ = wakeups?.watchEvents(runID: RunQueueWakeup.key)
        defer { wakeups?.unwatchEvents(runID: RunQueueWakeup.key) }
        let slots = self.slots
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled && isAccepting {
                let seen = wakeups?.eventGeneration(runID: RunQueueWakeup.key)
                var places = 0
                while places < Self.claimBatch, slots.tryAcquire() { places += 1 }
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
                for _ in claimed.count..<places { slots.release() }
                for run in claimed {
                    group.addTask {
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
