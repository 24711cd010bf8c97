import Foundation
public import SluiceRunLog
import Synchronization

/// Writes a run's events to a ``RunStore`` before any transport sends them.
///
/// An ``EventBatchSink``: the bus hands it each batch first, and it appends the whole batch
/// (events and the checkpoints they carry) in one transaction. A batch that cannot be written
/// (the database stayed locked past its busy timeout) is kept and written with the next one,
/// so the log never has a gap; ``flush()`` retries what is left at the end, and ``unwritten``
/// says what could not be written, so the caller can report it.
///
/// A batch whose write failed although it was stored (the connection lost after the COMMIT
/// went through: the answer never came) is not refused for ever as a `conflict` by its
/// retry: the events the log holds exactly as they were sent count as written.
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
            markWritten(events.count)
        } catch {
            guard error.code == .conflict else { return state.withLock { $0.lastError = error } }
            // Some of them may be ours, stored by an append whose answer was lost.
            let stored = await storedAsSent(events)
            guard stored > 0 else { return state.withLock { $0.lastError = error } }
            markWritten(stored)
            let rest = Array(events.dropFirst(stored))
            guard !rest.isEmpty else { return }
            do {
                try await store.append(rest)
                markWritten(rest.count)
            } catch {
                state.withLock { $0.lastError = error }
            }
        }
    }

    private func markWritten(_ count: Int) {
        state.withLock { state in
            state.pending.removeFirst(min(count, state.pending.count))
            state.written += count
        }
    }

    /// How many of `events`, from the first, the log holds as they were sent (same run, seq,
    /// type, step, place and data; the time as the store keeps it, to the millisecond). Zero
    /// when the log cannot be read, or holds other events at those `seq`s (a real conflict).
    private func storedAsSent(_ events: [RunEvent]) async -> Int {
        guard let first = events.first else { return 0 }
        let stored: [RunEvent]
        do {
            stored = try await store.events(runID: first.runID, after: first.seq - 1, limit: events.count)
        } catch {
            return 0
        }
        return zip(events, stored).prefix { sent, kept in
            sent.runID == kept.runID && sent.seq == kept.seq && sent.type == kept.type && sent.step == kept.step && sent.item == kept.item
                && sent.iteration == kept.iteration && sent.data == kept.data
                && abs(sent.time.timeIntervalSince1970 - kept.time.timeIntervalSince1970) < 0.001
        }.count
    }
}
