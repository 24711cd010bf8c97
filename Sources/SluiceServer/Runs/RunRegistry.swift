import Synchronization

/// Where the server keeps the runs it serves (live handles: events, cancellation, owner).
/// In memory and bounded; the durable record of runs is SluiceStore's `RunStore`, written by
/// ``DurableRunExecutor``.
public protocol RunRegistry: Sendable {
    /// Adds a run; the registry may forget finished runs to stay within its bounds.
    func insert(_ run: RunRecord)
    func run(id: String) -> RunRecord?
    /// The runs of one user, newest first.
    func runs(user: String) -> [RunRecord]
    /// Every run still running.
    func activeRuns() -> [RunRecord]
}

/// Keeps up to `capacity` runs in memory; when full, the oldest finished run is forgotten.
/// Running runs are never evicted, so the registry may exceed its capacity while they last.
public final class InMemoryRunRegistry: RunRegistry {
    public let capacity: Int
    private let state = Mutex<[RunRecord]>([])

    public init(capacity: Int = 1000) {
        self.capacity = max(1, capacity)
    }

    public func insert(_ run: RunRecord) {
        state.withLock { runs in
            runs.append(run)
            while runs.count > capacity, let index = runs.firstIndex(where: { $0.status.isFinished }) {
                runs.remove(at: index)
            }
        }
    }

    public func run(id: String) -> RunRecord? {
        // The newest: a run resumed in this process has a new record under the same id.
        state.withLock { runs in runs.last { $0.id == id } }
    }

    public func runs(user: String) -> [RunRecord] {
        state.withLock { runs in runs.filter { $0.user == user }.reversed() }
    }

    public func activeRuns() -> [RunRecord] {
        state.withLock { runs in runs.filter { !$0.status.isFinished } }
    }
}
