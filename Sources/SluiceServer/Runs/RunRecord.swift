public import Foundation
import SluiceEngine
public import SluiceJSON
public import SluiceRunLog
import Synchronization

/// One run as the server keeps it: who owns it, its events so far (replayable from any `seq`),
/// live subscribers, and how it ended.
///
/// The record is the run's event sink: the executor delivers every event here, and the record
/// fans it out to subscribers (SSE streams, MCP calls) without ever waiting on them.
///
/// A run whose whole log is in a durable store lets its events go when it ends (see
/// ``finish(_:at:log:)``): the registry keeps up to a thousand finished runs, and their event
/// arrays were most of a busy server's memory. Its replay is then read from the store.
public final class RunRecord: EventSink, Sendable {
    public let id: String
    public let planName: String
    public let user: String
    public let inputs: JSONValue
    public let createdAt: Date
    /// The most events kept per run; later events are still delivered live but not replayable.
    public let maxEvents: Int

    private struct State {
        var events: [RunEvent] = []
        var droppedEvents = 0
        /// The `seq` of the last event received.
        var lastSeq = 0
        /// Set when the run ended with its events let go: where they are read back.
        var log: StoredLog?
        /// How many events were let go with ``log``.
        var releasedEvents = 0
        var result: RunResult?
        var finishedAt: Date?
        var subscribers: [UInt64: AsyncStream<RunEvent>.Continuation] = [:]
        var nextSubscriber: UInt64 = 0
        var finishWaiters: [CheckedContinuation<RunResult, Never>] = []
        var cancelRequested: String?
        var cancelWaiter: CheckedContinuation<Void, Never>?
        var cancelWatchReleased = false
    }

    private let state = Mutex(State())

    public init(id: String, planName: String, user: String, inputs: JSONValue, createdAt: Date = Date(), maxEvents: Int = 100_000) {
        self.id = id
        self.planName = planName
        self.user = user
        self.inputs = inputs
        self.createdAt = createdAt
        self.maxEvents = maxEvents
    }

    public var status: RunStatus { state.withLock { $0.result?.status ?? .running } }
    public var result: RunResult? { state.withLock { $0.result } }
    public var finishedAt: Date? { state.withLock { $0.finishedAt } }
    public var eventCount: Int { state.withLock { $0.events.count + $0.droppedEvents + $0.releasedEvents } }
    /// The `seq` of the last event received (0 before the first).
    public var lastSeq: Int { state.withLock { $0.lastSeq } }
    /// Whether the events were let go at the end, to be read back from the store.
    public var eventsReleased: Bool { state.withLock { $0.log != nil } }

    // MARK: Events in

    public func receive(_ event: RunEvent) async {
        let subscribers = state.withLock { state in
            if state.events.count < maxEvents { state.events.append(event) } else { state.droppedEvents += 1 }
            state.lastSeq = max(state.lastSeq, event.seq)
            return Array(state.subscribers.values)
        }
        for subscriber in subscribers { subscriber.yield(event) }
    }

    /// Records the end of the run and ends every subscription.
    ///
    /// - Parameter log: the run's log in the store, when it holds every event this record
    ///   received (the caller checked): the record lets its events go, and replays read `log`.
    public func finish(_ result: RunResult, at time: Date = Date(), log: StoredLog? = nil) {
        let (subscribers, waiters) = state.withLock { state -> ([AsyncStream<RunEvent>.Continuation], [CheckedContinuation<RunResult, Never>]) in
            guard state.result == nil else { return ([], []) }
            state.result = result
            state.finishedAt = time
            if let log {
                state.log = log
                state.releasedEvents = state.events.count
                state.events = []
            }
            let subscribers = Array(state.subscribers.values)
            state.subscribers.removeAll()
            let waiters = state.finishWaiters
            state.finishWaiters.removeAll()
            return (subscribers, waiters)
        }
        for subscriber in subscribers { subscriber.finish() }
        for waiter in waiters { waiter.resume(returning: result) }
    }

    // MARK: Events out

    /// The events with `seq` greater than `after`, then the live ones until the run ends.
    ///
    /// The stream buffers without limit for its consumer: a subscriber is one connection whose
    /// lifetime is bounded by the run's. A finished run whose events were let go is read back
    /// from its stored log a page at a time; a store error ends the stream early (the client
    /// can reconnect with `Last-Event-ID`), as ``StoredEventFeed`` does.
    public func events(after: Int = 0) -> AsyncStream<RunEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: RunEvent.self)
        enum Subscription { case ended, live(UInt64), stored(StoredLog) }
        // One look under the lock: the events cannot be let go between reading and subscribing.
        let subscription: Subscription = state.withLock { state in
            if let log = state.log { return .stored(log) }
            for event in state.events where event.seq > after { continuation.yield(event) }
            if state.result != nil {
                continuation.finish()
                return .ended
            }
            let key = state.nextSubscriber
            state.nextSubscriber += 1
            state.subscribers[key] = continuation
            return .live(key)
        }
        switch subscription {
        case .ended:
            break
        case .live(let key):
            continuation.onTermination = { [weak self] _ in
                _ = self?.state.withLock { $0.subscribers.removeValue(forKey: key) }
            }
        case .stored(let log):
            log.replay(after: after, into: continuation)
        }
        return stream
    }

    /// The events recorded so far and still held (none once let go at the end: see
    /// ``events(after:)``).
    public var recordedEvents: [RunEvent] { state.withLock { $0.events } }

    /// Waits until the run has ended.
    public func waitForResult() async -> RunResult {
        await withCheckedContinuation { continuation in
            let ready: RunResult? = state.withLock { state in
                if let result = state.result { return result }
                state.finishWaiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    // MARK: Cancellation

    /// Asks the run to stop; the manager cancels its task. Returns false when it had already ended.
    @discardableResult
    public func cancel(reason: String) -> Bool {
        let (accepted, waiter) = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
            guard state.result == nil, state.cancelRequested == nil else { return (state.result == nil, nil) }
            state.cancelRequested = reason
            defer { state.cancelWaiter = nil }
            return (true, state.cancelWaiter)
        }
        waiter?.resume()
        return accepted
    }

    public var cancelReason: String? { state.withLock { $0.cancelRequested } }

    /// Returns once ``cancel(reason:)`` has been called (or at once when it already was).
    /// Cancelling the waiting task releases it too.
    func waitForCancelRequest() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let already = state.withLock { state in
                    if state.cancelRequested != nil || state.cancelWatchReleased { return true }
                    state.cancelWaiter = continuation
                    return false
                }
                if already { continuation.resume() }
            }
        } onCancel: {
            releaseCancelWaiter()
        }
    }

    /// Releases a pending ``waitForCancelRequest()`` without cancelling (the run ended on its own).
    func releaseCancelWaiter() {
        let waiter = state.withLock { state in
            state.cancelWatchReleased = true
            defer { state.cancelWaiter = nil }
            return state.cancelWaiter
        }
        waiter?.resume()
    }

    /// The run as REST reports it (`GET /v1/runs/{id}`).
    public var summary: JSONValue {
        let (result, finishedAt, count) = state.withLock { ($0.result, $0.finishedAt, $0.events.count + $0.droppedEvents + $0.releasedEvents) }
        var object: JSONObject = [
            "run_id": .string(id),
            "plan": .string(planName),
            "status": .string(result?.status.rawValue ?? RunStatus.running.rawValue),
            "created_at": .string(EventTime.iso8601(createdAt)),
        ]
        if let finishedAt { object["finished_at"] = .string(EventTime.iso8601(finishedAt)) }
        object["events"] = .integer(Int64(count))
        object["inputs"] = inputs
        if let result {
            if let value = result.result { object["result"] = value }
            if let type = result.errorType {
                object["error"] = ["type": .string(type), "message": .string(result.errorMessage ?? "")]
            }
            object["billing"] = result.billing
            object["usage"] = result.usage
        }
        return .object(object)
    }
}
