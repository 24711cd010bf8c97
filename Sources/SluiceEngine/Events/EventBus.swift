public import Foundation
public import SluiceJSON
import Synchronization

/// Carries a run's events from the engine to its sinks without ever making the engine wait.
///
/// The engine calls ``publish(_:step:item:iteration:data:)``, which only appends to a buffer
/// under a lock; ``deliver()`` (run alongside the engine, in the same task group) hands the
/// events to every sink in order and numbers them (`seq` 1, 2, 3…) as they go out.
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
public final class EventBus: Sendable {
    public static let defaultCapacity = 1024

    public let runID: String
    public let capacity: Int
    private let sinks: [any EventSink]
    private let state = Mutex(State())

    private struct State {
        var pending: [RunEvent] = []
        var waiter: CheckedContinuation<Void, Never>?
        var closed = false
        var nextSeq = 1
        var merged = 0
    }

    /// - Parameter firstSeq: the `seq` of the first event (1, or a resumed run's next).
    public init(runID: String, sinks: [any EventSink], capacity: Int = EventBus.defaultCapacity, firstSeq: Int = 1) {
        self.runID = runID
        self.sinks = sinks
        self.capacity = max(1, capacity)
        state.withLock { $0.nextSeq = max(1, firstSeq) }
    }

    /// Queues an event for the sinks; never waits. Events published after ``close()`` are ignored.
    @inline(never)
    public func publish(
        _ type: EventType, step: String? = nil, item: Int? = nil, iteration: Int? = nil,
        data: JSONValue = .object(JSONObject()), time: Date = Date(), checkpoint: StepCheckpoint? = nil
    ) {
        var event = RunEvent(seq: 0, runID: runID, time: time, type: type, step: step, item: item, iteration: iteration, data: data)
        event.checkpoint = checkpoint
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
            guard !state.closed else { return nil }
            if type == .stepDelta, Self.merge(event, into: &state.pending, full: state.pending.count >= capacity) {
                state.merged += 1
                return nil
            }
            state.pending.append(event)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// No more events: ``deliver()`` returns once the sinks have everything already published.
    public func close() {
        let waiter = state.withLock { state in
            state.closed = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// How many deltas were merged into earlier ones because the sinks were behind.
    public var mergedDeltaCount: Int { state.withLock { $0.merged } }

    /// Delivers events to the sinks in order until ``close()`` has been called and the buffer is empty.
    ///
    /// Each batch goes to the ``EventBatchSink``s first (a store writes it before any transport
    /// sends it), then event by event to the other sinks.
    /// Not cancellable on purpose: a cancelled run still owes its sinks the final `run.cancelled`.
    public func deliver() async {
        let batchSinks = sinks.compactMap { $0 as? any EventBatchSink }
        let eventSinks = sinks.filter { !($0 is any EventBatchSink) }
        while let batch = await nextBatch() {
            for sink in batchSinks { await sink.receive(batch: batch) }
            for event in batch {
                for sink in eventSinks { await sink.receive(event) }
            }
        }
    }

    private enum Next {
        case batch([RunEvent])
        case finished
        case wait
    }

    private func nextBatch() async -> [RunEvent]? {
        while true {
            let next: Next = state.withLock { state in
                if !state.pending.isEmpty {
                    var batch: [RunEvent] = []
                    swap(&batch, &state.pending)
                    for index in batch.indices {
                        batch[index].seq = state.nextSeq
                        state.nextSeq += 1
                    }
                    return .batch(batch)
                }
                return state.closed ? .finished : .wait
            }
            switch next {
            case .batch(let batch): return batch
            case .finished: return nil
            case .wait:
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let ready = state.withLock { state in
                        if !state.pending.isEmpty || state.closed { return true }
                        state.waiter = continuation
                        return false
                    }
                    if ready { continuation.resume() }
                }
            }
        }
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
