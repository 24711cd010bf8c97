import SluiceEngine
public import SluiceRunLog
import Synchronization

/// An event sink that keeps every event it receives, for assertions.
public final class RecordingEventSink: EventSink {
    private let storage = Mutex<[RunEvent]>([])

    public init() {}

    public func receive(_ event: RunEvent) async {
        storage.withLock { $0.append(event) }
    }

    /// Every event so far, in delivery order.
    public var events: [RunEvent] { storage.withLock { $0 } }

    /// The events' types, in order.
    public var types: [EventType] { events.map(\.type) }

    /// The events of one type, in order.
    public func events(_ type: EventType) -> [RunEvent] { events.filter { $0.type == type } }
}

/// A sink that takes its time with every event, to show the bus does not wait for it.
public final class SlowEventSink: EventSink {
    private let delay: Duration
    private let storage = Mutex<[RunEvent]>([])

    public init(delay: Duration) {
        self.delay = delay
    }

    public func receive(_ event: RunEvent) async {
        // A sink must finish delivering even when the run was cancelled, so the sleep's
        // cancellation is deliberately not an error here.
        do { try await Task.sleep(for: delay) } catch { _ = error }
        storage.withLock { $0.append(event) }
    }

    public var events: [RunEvent] { storage.withLock { $0 } }
}
