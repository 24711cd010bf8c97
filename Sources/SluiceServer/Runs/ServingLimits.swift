import Foundation
import Synchronization

/// How much of the server one user, and everyone together, may hold at once. Past a limit the
/// request is refused at once (HTTP 429 with `Retry-After`), never queued without bound.
public struct ServingLimits: Sendable {
    /// Runs one user may have started and not yet finished (queued or running); on a shared
    /// queue (PostgreSQL), counted across replicas, runs waiting for an answer included.
    public var runsPerUser: Int
    /// MCP sessions (streamable HTTP) one user may hold open.
    public var sessionsPerUser: Int
    /// Runs executing at once, server-wide; more wait in a queue, in the order they came.
    public var concurrentRuns: Int
    /// Runs waiting for a free place beyond ``concurrentRuns``; past it new runs are refused.
    /// On a shared queue: the runs queued in the store, for any replica.
    public var queuedRuns: Int
    /// What `Retry-After` says to a refused client, in seconds.
    public var retryAfterSeconds: Int
    /// On a shared queue: seconds a queued run may go without any live replica serving its
    /// plan version before it is ended with `run.failed` (`plan_not_served`), so its client
    /// gets an end (`SLUICE_QUEUE_UNSERVED_TIMEOUT`; 10 minutes).
    public var unservedQueuedRunTimeout: Double = 600

    public init(runsPerUser: Int = 32, sessionsPerUser: Int = 64, concurrentRuns: Int = 256, queuedRuns: Int = 1024, retryAfterSeconds: Int = 5) {
        self.runsPerUser = max(1, runsPerUser)
        self.sessionsPerUser = max(1, sessionsPerUser)
        self.concurrentRuns = max(1, concurrentRuns)
        self.queuedRuns = max(0, queuedRuns)
        self.retryAfterSeconds = max(1, retryAfterSeconds)
    }
}

/// Why the server did not start a run.
public enum RunRefusal: Error, Sendable, CustomStringConvertible {
    /// The server is shutting down and takes no new runs.
    case shuttingDown
    /// The user already has this many runs going.
    case userLimit(Int)
    /// The server runs and queues all it may.
    case serverFull(running: Int, queued: Int)
    /// The replicas sharing the store have this many runs waiting for a place (the limit).
    case queueFull(queued: Int)
    /// The shared store could not record the run (why).
    case storeUnavailable(String)

    public var description: String {
        switch self {
        case .shuttingDown: "the server is shutting down and accepts no new runs"
        case .userLimit(let limit): "too many runs: you already have \(limit) runs going (the per-user limit); wait for one to finish"
        case .serverFull(let running, let queued): "the server is busy: \(running) runs are running and \(queued) waiting; try again shortly"
        case .queueFull(let queued): "the servers are busy: \(queued) runs wait in the shared queue for a place (the limit); try again shortly"
        case .storeUnavailable(let reason): "the run could not be recorded: \(reason)"
        }
    }
}

/// Places for runs to execute in: at most `capacity` at once, the rest wait first come, first served.
final class RunSlots: Sendable {
    private struct State {
        var free: Int
        var waiting: [CheckedContinuation<Void, Never>] = []
        /// Waiting for a place to be free without taking it (see ``waitUntilFree()``).
        var watchers: [UUID: CheckedContinuation<Void, Never>] = [:]
    }
    private let state: Mutex<State>

    init(capacity: Int) {
        state = Mutex(State(free: max(1, capacity)))
    }

    /// Waits for a place (cancellation does not cut the wait short: the run then ends at once).
    func acquire() async {
        let gotOne = state.withLock { state -> Bool in
            guard state.free > 0 else { return false }
            state.free -= 1
            return true
        }
        if gotOne { return }
        await withCheckedContinuation { continuation in
            let immediate = state.withLock { state -> Bool in
                if state.free > 0 {
                    state.free -= 1
                    return true
                }
                state.waiting.append(continuation)
                return false
            }
            if immediate { continuation.resume() }
        }
    }

    /// How many places are free now (taking none).
    var available: Int {
        state.withLock { $0.free }
    }

    /// Takes a place if one is free, without waiting.
    func tryAcquire() -> Bool {
        state.withLock { state in
            guard state.free > 0 else { return false }
            state.free -= 1
            return true
        }
    }

    /// Gives a place back, to the first waiting run if any.
    func release() {
        let (next, watchers) = state.withLock { state -> (CheckedContinuation<Void, Never>?, [CheckedContinuation<Void, Never>]) in
            if state.waiting.isEmpty {
                state.free += 1
                let watchers = Array(state.watchers.values)
                state.watchers = [:]
                return (nil, watchers)
            }
            return (state.waiting.removeFirst(), [])
        }
        next?.resume()
        watchers.forEach { $0.resume() }
    }

    /// Returns once a place is free (at once if one is), or when the task is cancelled; takes
    /// nothing (the shared queue's claim loop, ``RunManager/claimQueuedRuns(library:every:log:)``).
    func waitUntilFree() async {
        let id = UUID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    guard state.free == 0, !Task.isCancelled else { return true }
                    state.watchers[id] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let watcher = state.withLock { $0.watchers.removeValue(forKey: id) }
            watcher?.resume()
        }
    }
}
