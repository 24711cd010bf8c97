import Dispatch
import Foundation
import SluiceEngine
import SluiceJSON
import SluicePlan
import SluiceProviders
import SluiceRunLog
import Synchronization

/// Runs async engine work from the synchronous benchmark driver.
///
/// The driver is a plain command-line loop on the main thread; blocking it on a semaphore while
/// the work runs on the cooperative pool is safe there (and only there).
func runBlocking<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
    let result = Mutex<T?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task {
        let value = await body()
        result.withLock { $0 = value }
        done.signal()
    }
    done.wait()
    // The task stored the value before signalling.
    return result.withLock { $0 }!
}

/// A model that answers at once (engine overhead only).
struct InstantModel: ModelProvider {
    func generate(_ request: ModelRequest, onDelta: @Sendable (String) async throws -> Void) async throws -> ModelResponse {
        if request.stream { try await onDelta("ok") }
        return ModelResponse(text: "ok", usage: ModelUsage(provider: "bench", model: request.model.name, inputTokens: 1, outputTokens: 1))
    }
}

/// A sink that only counts, so sinks do not dominate engine measurements.
final class CountingSink: EventSink {
    private let count = Atomic<Int>(0)
    func receive(_ event: RunEvent) async { count.add(1, ordering: .relaxed) }
    var total: Int { count.load(ordering: .relaxed) }
}

enum BenchmarkFiles {
    static var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
}

/// Engine overhead per step: a map over 2,000 items whose body is a `set` and an `llm` step on an
/// instant in-process model, so everything measured is the interpreter and its events.
/// Target: median ≤ 20 µs per step (release).
struct EngineStepOverheadBenchmark: Benchmark {
    let name = "engine_step_overhead"
    static let items = 2_000

    func run(_ context: BenchmarkContext) throws -> JSONValue {
        let plan = try PlanLoader().load(bytes: Array(#"""
            {"name": "bench", "models": {"default": "bench:instant"},
             "steps": [{"id": "each", "kind": "map", "over": "inputs.items", "concurrency": 4,
                        "steps": [{"id": "double", "kind": "set", "value": "${index * 2}"},
                                  {"id": "say", "kind": "llm", "prompt": "item {{item}}"}]}]}
            """#.utf8), path: "bench.json")
        let inputs: JSONValue = ["items": .array((0..<Self.items).map { .integer(Int64($0)) })]
        let engine = RunEngine(providers: RunEngine.Providers(
            model: InstantModel(), search: CorpusSearchProvider(corpus: Corpus(documents: [])),
            fetch: CorpusFetchProvider(corpus: Corpus(documents: [])), documents: LocalDocumentLoader(root: "/nonexistent")
        ), configuration: RunEngine.Configuration(maxSteps: 1_000_000))
        let steps = Double(Self.items * 2 + 1)
        var samples: [Double] = []
        var events = 0
        for _ in 0..<max(5, context.repetitions) {
            let sink = CountingSink()
            let seconds = context.bestTime {
                _ = runBlocking { await engine.run(plan: plan, inputs: inputs, sinks: [sink]) }
            }
            events = sink.total / max(1, context.repetitions)
            samples.append(seconds / steps)
        }
        samples.sort()
        return [
            "steps_per_run": .integer(Int64(steps)),
            "events_per_run": .integer(Int64(events)),
            "median_us_per_step": (samples[samples.count / 2] * 1e6).rounded(places: 2),
            "min_us_per_step": (samples[0] * 1e6).rounded(places: 2),
            "target_us_per_step": 20,
        ]
    }
}

/// NDJSON throughput: events through the bus and the NDJSON sink (serialised, written to a
/// counter), 100,000 per run: started/completed pairs around bursts of deltas.
struct NDJSONThroughputBenchmark: Benchmark {
    let name = "ndjson_event_throughput"
    static let events = 100_000

    func run(_ context: BenchmarkContext) throws -> JSONValue {
        let bytes = Atomic<Int>(0)
        let seconds = context.bestTime {
            runBlocking {
                let sink = NDJSONEventSink { line in bytes.add(line.utf8.count, ordering: .relaxed) }
                let bus = EventBus(runID: "run_bench", sinks: [sink])
                var published = 0
                var step = 0
                while published < Self.events {
                    let id = "step_\(step)"
                    bus.publish(.stepStarted, step: id, data: ["kind": "llm"])
                    for _ in 0..<8 { bus.publish(.stepDelta, step: id, item: 0, data: ["text": "a few words of text "]) }
                    bus.publish(.stepCompleted, step: id, data: ["output": "a few words of text", "duration_ms": 12])
                    published += 10
                    step += 1
                    // Let the sink run now and then, as a real run's awaits do.
                    if step % 50 == 0 { await Task.yield() }
                }
                bus.close()
                await bus.delivered()
            }
        }
        return [
            "events": .integer(Int64(Self.events)),
            "events_per_second": (Double(Self.events) / seconds).rounded(places: 0),
            "mb_written_per_second": (Double(bytes.load(ordering: .relaxed)) / Double(max(1, context.repetitions)) / seconds / 1e6).rounded(places: 2),
        ]
    }
}
