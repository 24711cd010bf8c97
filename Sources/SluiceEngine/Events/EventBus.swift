public import Foundation
public import SluiceJSON
public import SluiceRunLog
import Synchronization

/// Carries a run's events from the engine to its sinks without ever making the engine wait.
///
/// The engine calls ``publish(_:step:item:iteration:data:time:checkpoint:)``, which only
/// appends to a buffer under a lock. While events wait, one delivery task hands them to every
/// sink in order and numbers them (`seq` 1, 2, 3…) as they go out; it ends when the buffer is
/// empty and the next event starts another. So a run waiting on its model holds no delivery
/// task, and a bus without sinks holds no events at all (it only counts them).
/// ``delivered()`` waits for the end: ``close()`` called and every event handed over.
/// ``EventObserver``s (a tracer) are the exception: `publish` tells them of each event but
/// `step.delta` itself, at once, on the engine's task.
///
/// #### Buffer policy
/// The buffer holds up to `capacity` events waiting for the sinks. It never blocks and never
/// drops text:
/// - A `step.delta` is merged into the pending delta just before it when both belong to the
///   same step, item and iteration (the texts are concatenated), so a consumer that has fallen
///   behind receives fewer, larger deltas.
/// - When the buffer is full, a `step.delta` is merged into the latest pending delta of the same
///   step, item and iteration, as long as no other event of that step execution (such as a
///   `step.retrying`) lies between them; failing that it is appended.
/// - Every other event (the lifecycle: started, completed, failed, gate, usage…) is always
///   appended, even over capacity: their number is bounded by the plan's steps, items and
///   iterations, not by the amount of text a model streams.
/// So memory is bounded by `capacity`, plus the run's lifecycle events, plus the text itself.
///
/// #### Delta window
/// A delivery that starts with a `step.delta` waits `deltaWindow` first, and deltas published
/// meanwhile merge into the pending delta of their step execution as when the buffer is full:
/// a model streaming a token every few milliseconds becomes one event per window, so each
/// event serialized, stored and sent over every transport carries more text. Lifecycle events
/// published in the window wait for it (at most `deltaWindow` later); the order within a step
/// execution never changes.
public final class EventBus: Sendable {
    public static let defaultCapacity = 1024
    /// 50 ms: text still arrives twenty times a second.
    public static let defaultDeltaWindow: Duration = .milliseconds(50)

    public let runID: String
    public let capacity: Int
    public let deltaWindow: Duration
    private let batchSinks: [any EventBatchSink]
    private let eventSinks: [any EventSink]
    /// Told of each event as it is published (see ``EventObserver``), not by the delivery task.
    private let observers: [any EventObserver]
    private let state = Mutex(State())

    private struct State {
        var pending: [RunEvent] = []
        /// A delivery task is running (it ends when `pending` is empty).
        var delivering = false
        /// The delivery task is waiting out the delta window: deltas merge as if the buffer were full.
        var gathering = false
        var closed = false
        /// Callers of ``delivered()`` waiting for the end.
        var waiters: [CheckedContinuation<Void, Never>] = []
        var nextSeq = 1
        var merged = 0

        /// Whether everything is over: closed, nothing waiting, no delivery running.
        var done: Bool { closed && !delivering && pending.isEmpty }

        mutating func takeWaiters() -> [CheckedContinuation<Void, Never>] {
            defer { waiters = [] }
            return waiters
        }
    }

    /// - Parameter firstSeq: the `seq` of the first event (1, or a resumed run's next).
    ///
    /// Each batch goes to the ``EventBatchSink``s first (a store writes it before any transport
    /// sends it), then event by event to the other sinks.
    public init(runID: String, sinks: [any EventSink], capacity: Int = EventBus.defaultCapacity, deltaWindow: Duration = .zero, firstSeq: Int = 1) {
        self.runID = runID
        self.deltaWindow = deltaWindow
        self.batchSinks = sinks.compactMap { $0 as? any EventBatchSink }
        self.observers = sinks.compactMap { $0 as? any EventObserver }
        self.eventSinks = sinks.filter { !($0 is any EventBatchSink) && !($0 is any EventObserver) }
        self.capacity = max(1, capacity)
        state.withLock { $0.nextSeq = max(1, firstSeq) }
    }

    /// Queues an event for the sinks (starting a delivery task when none runs); never waits.
    /// Events published after ``close()`` are ignored.
    @inline(never)
    public func publish(
        _ type: EventType, step: String? = nil, item: Int? = nil, iteration: Int? = nil,
        data: JSONValue = .object(JSONObject()), time: Date = Date(), checkpoint: StepCheckpoint? = nil
    ) {
        if !observers.isEmpty, type != .stepDelta, !state.withLock({ $0.closed }) {
            let event = RunEvent(seq: 0, runID: runID, time: time, type: type, step: step, item: item, iteration: iteration, data: data)
            for observer in observers { observer.observe(event) }
        }
        guard !batchSinks.isEmpty || !eventSinks.isEmpty else {
            state.withLock { state in if !state.closed { state.nextSeq += 1 } }
            return
        }
        var event = RunEvent(seq: 0, runID: runID, time: time, type: type, step: step, item: item, iteration: iteration, data: data)
        event.checkpoint = checkpoint
        let window = type == .stepDelta ? deltaWindow : .zero
        let startDelivery: Bool = state.withLock { state in
            guard !state.closed else { return false }
            if type == .stepDelta, Self.merge(event, into: &state.pending, full: state.gathering || state.pending.count >= capacity) {
                state.merged += 1
                return false
            }
            state.pending.append(event)
            if state.delivering { return false }
            state.delivering = true
            state.gathering = window > .zero
            return true
        }
        if startDelivery {
            // Detached: delivery must not inherit the run's cancellation or its task-locals; a
            // cancelled run still owes its sinks the final `run.cancelled`.
            Task.detached { await self.deliverPending(after: window) }
        }
    }

    /// No more events: ``delivered()`` returns once the sinks have everything already published.
    public func close() {
        let waiters: [CheckedContinuation<Void, Never>] = state.withLock { state in
            state.closed = true
            return state.done ? state.takeWaiters() : []
        }
        for waiter in waiters { waiter.resume() }
    }

    /// How many deltas were merged into earlier ones (the sinks were behind, or in a delta window).
    public var mergedDeltaCount: Int { state.withLock { $0.merged } }

    /// Waits until ``close()`` has been called and every event published before it has reached
    /// the sinks. Not cancellable on purpose: a cancelled run still owes its sinks its last event.
    @inline(never)
    public func delivered() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state in
                if state.done { return true }
                state.waiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// The delivery task: hands batches to the sinks until the buffer is empty. Before ending
    /// it yields once, so a run publishing a stream of events does not start a task per event.
    private func deliverPending(after window: Duration) async {
        if window > .zero {
            try? await Task.sleep(for: window)
            state.withLock { $0.gathering = false }
        }
        var idle = false
        while true {
            switch nextBatch(mayEnd: idle) {
            case .batch(let batch):
                idle = false
                for sink in batchSinks { await sink.receive(batch: batch) }
                for event in batch {
                    for sink in eventSinks { await sink.receive(event) }
                }
            case .empty:
                idle = true
                await Task.yield()
            case .ended:
                return
            }
        }
    }

    private enum Next {
        case batch([RunEvent])
        /// Nothing waiting yet; the delivery task goes on.
        case empty
        /// Nothing waiting; the delivery task has ended (the next event starts another).
        case ended
    }

    /// The waiting events, numbered. With none, the delivery task ends when `mayEnd` or when
    /// the bus is closed.
    private func nextBatch(mayEnd: Bool) -> Next {
        let (next, waiters): (Next, [CheckedContinuation<Void, Never>]) = state.withLock { state in
            guard !state.pending.isEmpty else {
                guard mayEnd || state.closed else { return (.empty, []) }
                state.delivering = false
                return (.ended, state.done ? state.takeWaiters() : [])
            }
            var batch: [RunEvent] = []
            swap(&batch, &state.pending)
            for index in batch.indices {
                batch[index].seq = state.nextSeq
                state.nextSeq += 1
            }
            return (.batch(batch), [])
        }
        for waiter in waiters { waiter.resume() }
        return next
    }

    /// Merges a delta into a pending one per the buffer policy; false when it must be appended.
    private static func merge(_ delta: RunEvent, into pending: inout [RunEvent], full: Bool) -> Bool {
        var index = pending.count - 1
        while index >= 0 {
            let candidate = pending[index]
            let sameExecution = candidate.step == delta.step && candidate.item == delta.item && candidate.iteration == delta.iteration
            if sameExecution {
                guard candidate.type == .stepDelta else { return false }
                pending[index].data = ["text": .string(candidate.deltaText + delta.deltaText)]
                return true
            }
            // Only the adjacent event may absorb a delta while there is room.
            if !full { return false }
            index -= 1
        }
        return false
    }
}

