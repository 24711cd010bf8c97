public import SluiceRunLog

/// Stores each batch of a run's events, then hands the events to `downstream`: for a
/// transport that owns a single sink (the server's run record, an SSE stream), so what a
/// client is sent has always been stored first and can be replayed.
///
/// ```swift
/// let sink = StoreFirstSink(store: store, downstream: [recordSink])
/// let outcome = await engine.run(plan: plan, inputs: inputs, sinks: [sink])
/// if let error = await sink.storage.flush() { log(error) }
/// ```
public struct StoreFirstSink: EventBatchSink {
    /// The store side (see ``StoreEventSink`` for retries and what could not be written).
    public let storage: StoreEventSink
    public let downstream: [any EventSink]

    public init(store: any RunStore, downstream: [any EventSink]) {
        self.storage = StoreEventSink(store: store)
        self.downstream = downstream
    }

    /// Stores through `storage` (a run's one store sink, whose retries and unwritten events its
    /// owner reports).
    public init(storage: StoreEventSink, downstream: [any EventSink]) {
        self.storage = storage
        self.downstream = downstream
    }

    public func receive(batch: [RunEvent]) async {
        await storage.receive(batch: batch)
        for event in batch {
            for sink in downstream { await sink.receive(event) }
        }
    }
}
