import Foundation
import SluiceEngine
import SluiceJSON
import SluiceRunLog
import SluiceStore
import Synchronization

/// A run store in a temporary folder, for one benchmark.
struct BenchmarkStore {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-bench-\(UUID().uuidString)").path
    var database: String { folder + "/runs.sqlite" }

    func open(owner: String = ProcessOwner.current) throws -> SQLiteRunStore {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return try SQLiteRunStore(path: database, owner: owner)
    }

    func remove() {
        do { try FileManager.default.removeItem(atPath: folder) } catch { print("could not remove \(folder): \(error)") }
    }

    /// A run's log as a run writes it: mostly streamed deltas, with step ends carrying checkpoints.
    static func events(runID: String, count: Int, from firstSeq: Int = 1) -> [RunEvent] {
        (0..<count).map { index in
            let seq = firstSeq + index
            switch index % 20 {
            case 0:
                var event = RunEvent(
                    seq: seq, runID: runID, time: Date(), type: .stepCompleted, step: "section_text", item: index / 20,
                    data: ["output": .string(String(repeating: "A finished paragraph of text. ", count: 8)), "duration_ms": 120])
                event.checkpoint = StepCheckpoint(key: "sections[\(index / 20)]/section_text", output: event.data["output"] ?? .null)
                return event
            case 1:
                return RunEvent(
                    seq: seq, runID: runID, time: Date(), type: .modelUsage, step: "section_text", item: index / 20,
                    data: ["provider": "openai", "model": "gpt-4o-mini", "input_tokens": 812, "output_tokens": 240, "cost_usd": 0.00027])
            default:
                return RunEvent(
                    seq: seq, runID: runID, time: Date(), type: .stepDelta, step: "section_text", item: index / 20,
                    data: ["text": "streamed words, a chunk "])
            }
        }
    }
}

/// Event log append throughput (target ≥ 50,000 events/s): batches as the event bus hands
/// them to the store sink, and one transaction per event for comparison.
struct StoreAppendBenchmark: Benchmark {
    let name = "store_event_append"

    func run(_ context: BenchmarkContext) throws -> JSONValue {
        let location = BenchmarkStore()
        defer { location.remove() }
        let store = try location.open()
        let total = 100_000
        var result = JSONObject()
        for batchSize in [256, 1] {
            let count = batchSize == 1 ? 5_000 : total
            var best = Double.infinity
            for repetition in 0..<max(1, min(context.repetitions, 3)) {
                let runID = "bench_\(batchSize)_\(repetition)"
                let events = BenchmarkStore.events(runID: runID, count: count)
                let batches = stride(from: 0, to: count, by: batchSize).map { Array(events[$0..<min(count, $0 + batchSize)]) }
                let seconds = try blockingAwait {
                    try await store.createRun(NewRun(id: runID, plan: PlanIdentity(name: "bench", path: "bench.json", contentHash: "0"), inputs: [:]))
                    let sink = StoreEventSink(store: store)
                    let clock = ContinuousClock()
                    let start = clock.now
                    for batch in batches { await sink.receive(batch: batch) }
                    let elapsed = (clock.now - start).seconds
                    if let error = await sink.flush() { throw error }
                    return elapsed
                }
                best = min(best, seconds)
            }
            result["batch_\(batchSize)"] = [
                "events": .integer(Int64(count)),
                "events_per_second": (Double(count) / best).rounded(places: 0),
                "seconds": best.rounded(places: 3),
            ]
        }
        result["through_event_bus"] = try throughBus(store: store, count: total)
        result["target_events_per_second"] = 50_000
        return .object(result)
    }

    /// Events published as fast as the engine can into an ``EventBus`` whose first sink is the
    /// store: the bus forms the batches (bigger while the store is busy), as in a real run.
    private func throughBus(store: SQLiteRunStore, count: Int) throws -> JSONValue {
        let runID = "bench_bus"
        let (seconds, batches) = try blockingAwait {
            try await store.createRun(NewRun(id: runID, plan: PlanIdentity(name: "bench", path: "bench.json", contentHash: "0"), inputs: [:]))
            let sink = StoreEventSink(store: store)
            let counter = BatchCounter(sink: sink)
            let bus = EventBus(runID: runID, sinks: [counter], capacity: 1024)
            let clock = ContinuousClock()
            let start = clock.now
            // Not deltas (those merge): one lifecycle-like event each.
            for index in 0..<count {
                bus.publish(.modelUsage, step: "section_text", item: index % 7, data: ["input_tokens": 812, "output_tokens": 240])
                if index % 1000 == 0 { await Task.yield() }
            }
            bus.close()
            await bus.delivered()
            let elapsed = (clock.now - start).seconds
            if let error = await sink.flush() { throw error }
            return (elapsed, counter.batches)
        }
        return [
            "events": .integer(Int64(count)), "events_per_second": (Double(count) / seconds).rounded(places: 0),
            "seconds": seconds.rounded(places: 3), "batches": .integer(Int64(batches)),
        ]
    }
}

/// How long `sluice runs resume` takes to be ready for a run with 1,000 events: claim the run,
/// read its log (usage, open steps), its checkpoints and its saved provider calls.
struct StoreResumeBenchmark: Benchmark {
    let name = "store_resume_latency"

    func run(_ context: BenchmarkContext) throws -> JSONValue {
        let location = BenchmarkStore()
        defer { location.remove() }
        // The runs belong to a process that is gone, as after a kill.
        let dead = try location.open(owner: "999999999@\(ProcessInfo.processInfo.hostName)")
        let store = try location.open()
        let repetitions = max(3, context.repetitions)
        var samples: [Double] = []
        for repetition in 0..<repetitions {
            let runID = "resume_\(repetition)"
            let seconds = try blockingAwait {
                try await dead.createRun(NewRun(id: runID, plan: PlanIdentity(name: "bench", path: "bench.json", contentHash: "0"), inputs: [:]))
                try await dead.append(BenchmarkStore.events(runID: runID, count: 1_000))
                for call in 0..<50 {
                    try await dead.saveProviderCall(ProviderCall(
                        runID: runID, kind: .model, request: "{\"prompt\":\"section \(call)\"}", occurrence: 1,
                        response: ["text": .string(String(repeating: "text ", count: 100)), "usage": ["provider": "openai", "model": "m", "input_tokens": 1, "output_tokens": 1]]))
                }
                let clock = ContinuousClock()
                let start = clock.now
                let prepared = try await store.prepareResume(id: runID)
                let elapsed = (clock.now - start).seconds
                guard prepared.state.checkpoints.count == 50 else {
                    throw StoreError(.invalidData, "expected 50 checkpoints, read \(prepared.state.checkpoints.count)")
                }
                return elapsed
            }
            samples.append(seconds)
        }
        samples.sort()
        return [
            "events": 1_000, "checkpoints": 50, "provider_calls": 50,
            "median_ms": (samples[samples.count / 2] * 1e3).rounded(places: 3),
            "min_ms": (samples[0] * 1e3).rounded(places: 3),
        ]
    }
}

/// Counts the batches the bus hands to the store sink.
private final class BatchCounter: EventBatchSink {
    let sink: StoreEventSink
    private let count = Mutex(0)

    init(sink: StoreEventSink) { self.sink = sink }

    var batches: Int { count.withLock { $0 } }

    func receive(batch: [RunEvent]) async {
        count.withLock { $0 += 1 }
        await sink.receive(batch: batch)
    }
}
