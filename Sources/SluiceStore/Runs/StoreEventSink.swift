public import SluiceRunLog
import Synchronization

/// Writes a run's events to a ``RunStore`` before any transport sends them.
///
/// An ``EventBatchSink``: the bus hands it each batch first, and it appends the whole batch
/// (events and the checkpoints they carry) in one transaction. A batch that cannot be written
/// (the database stayed locked past its busy timeout) is kept and written with the next one,
/// so the log never has a gap; ``flush()`` retries what is left at the end, and ``unwritten``
/// says what could not be written, so the caller can report it.
public final class StoreEventSink: EventBatchSink {
    public let store: any RunStore

    private struct State {
        var pending: [RunEvent] = []
        var lastError: StoreError?
        var written = 0
    }

    private let state = Mutex(State())

    public init(store: any RunStore) {
        self.store = store
    }

    public func receive(batch: [RunEvent]) async {
        let events = state.withLock { state in
            state.pending.append(contentsOf: batch)
            return state.pending
        }
        await write(events)
    }

    /// Tries once more to write what is pending. Returns the error when something is still unwritten.
    @discardableResult
    public func flush() async -> StoreError? {
        let events = state.withLock { $0.pending }
        if !events.isEmpty { await write(events) }
        return state.withLock { $0.pending.isEmpty ? nil : $0.lastError }
    }

    /// Events not yet in the store, and why.
    public var unwritten: (count: Int, error: StoreError?) {
        state.withLock { ($0.pending.count, $0.lastError) }
    }

    /// How many events are in the store.
    public var writtenCount: Int { state.withLock { $0.written } }

    private func write(_ events: [RunEvent]) async {
        do {
            try await store.append(events)
            state.withLock { state in
                state.pending.removeFirst(min(events.count, state.pending.count))
                state.written += events.count
            }
        } catch {
            state.withLock { $0.lastError = error }
        }
    }
}
