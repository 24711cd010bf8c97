import Foundation
import SluiceEngine
import SluiceJSON
import SluicePlan
import SluiceProviders
import Synchronization

/// A model that takes `latency` per call and answers like the offline model, remembering its
/// answers: identical runs ask identical questions, and the benchmark measures the engine, not
/// the simulation's text generation. It stands in for a provider waiting on the network, so
/// its own waiting frame is kept small (the lookup is in synchronous helpers).
final class LatencyModel: ModelProvider {
    let latency: Duration
    private let simulated = SimulatedModel(configuration: .init(chunkDelay: .zero, wordsPerChunk: 1_000_000))
    private let answers = Mutex<[String: ModelResponse]>([:])

    init(latency: Duration) {
        self.latency = latency
    }

    func generate(_ request: ModelRequest, onDelta: @Sendable (String) async throws -> Void) async throws -> ModelResponse {
        try await Task.sleep(for: latency)
        return try await answer(request, onDelta: onDelta)
    }

    @inline(never)
    private func answer(_ request: ModelRequest, onDelta: @Sendable (String) async throws -> Void) async throws -> ModelResponse {
        if let known = remembered(request) {
            if request.stream { try await onDelta(known.text) }
            return known
        }
        let response = try await simulated.generate(request, onDelta: onDelta)
        remember(response, for: request)
        return response
    }

    @inline(never)
    private func remembered(_ request: ModelRequest) -> ModelResponse? {
        let key = Self.key(request)
        return answers.withLock { $0[key] }
    }

    @inline(never)
    private func remember(_ response: ModelResponse, for request: ModelRequest) {
        let key = Self.key(request)
        answers.withLock { $0[key] = response }
    }

    private static func key(_ request: ModelRequest) -> String {
        "\(request.metadata.iteration ?? 0)|\(request.metadata.item ?? -1)|\(request.system ?? "")|\(request.prompt)"
    }
}

/// Many news_report runs at once with a simulated 100 ms model: wall time against one run's
/// (the plan's critical path), and peak RSS per concurrent run (target ≤ 50 KB).
///
/// `SLUICE_BENCH_RUNS` sets the number of runs (default 10,000); `SLUICE_BENCH_SINK=counting`
/// gives every run a sink that counts its events (by default runs have no sinks).
struct ConcurrentRunsBenchmark: Benchmark {
    let name = "concurrent_news_report_runs"

    func run(_ context: BenchmarkContext) throws -> JSONValue {
        let runs = ProcessInfo.processInfo.environment["SLUICE_BENCH_RUNS"].flatMap(Int.init) ?? 10_000
        let counting = ProcessInfo.processInfo.environment["SLUICE_BENCH_SINK"] == "counting"
        let plans = BenchmarkFiles.repository.appendingPathComponent("plans").path
        let catalog = PlanCatalog(directories: [plans])
        let plan = try PlanLoader(catalog: catalog).load(path: plans + "/news_report.json")
        let corpus = try Corpus.load(folder: BenchmarkFiles.repository.appendingPathComponent("corpus").path)
        let engine = RunEngine(
            providers: RunEngine.Providers(
                model: ModelRouter(fallback: LatencyModel(latency: .milliseconds(100))),
                search: CorpusSearchProvider(corpus: corpus), fetch: CorpusFetchProvider(corpus: corpus),
                documents: LocalDocumentLoader(root: BenchmarkFiles.repository.path)
            ),
            configuration: RunEngine.Configuration(catalog: catalog, defaultModel: "simulated:offline")
        )
        let inputs: JSONValue = ["task": "Major events in the AI agent industry this week"]
        let clock = ContinuousClock()

        var start = clock.now
        let single = runBlocking { await engine.run(plan: plan, inputs: inputs, sinks: []) }
        if let failure = single.failure { throw BenchmarkFailure("the single news_report run failed: \(failure)") }
        let criticalPath = (clock.now - start).seconds

        let baseline = Self.residentKilobytes(peak: false)
        start = clock.now
        let completed = runBlocking {
            await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<runs {
                    group.addTask { await engine.run(plan: plan, inputs: inputs, sinks: counting ? [CountingSink()] : []).status == .completed }
                }
                var completed = 0
                for await ok in group where ok { completed += 1 }
                return completed
            }
        }
        let wall = (clock.now - start).seconds
        let peak = Self.residentKilobytes(peak: true)
        guard completed == runs else { throw BenchmarkFailure("only \(completed) of \(runs) concurrent runs completed") }
        return [
            "runs": .integer(Int64(runs)),
            "sinks": counting ? "a counting sink per run" : "none",
            "completed": .integer(Int64(completed)),
            "single_run_status": .string(single.status.rawValue),
            "critical_path_s": criticalPath.rounded(places: 3),
            "wall_s": wall.rounded(places: 3),
            "wall_over_critical_path": (wall / criticalPath).rounded(places: 2),
            "peak_rss_kb_per_run": (Double(max(0, peak - baseline)) / Double(max(1, runs))).rounded(places: 1),
            "target_kb_per_run": 50,
        ]
    }

    /// VmHWM (peak) or VmRSS (now) from /proc/self/status, in KB; 0 where there is no /proc.
    static func residentKilobytes(peak: Bool) -> Int {
        let status: String
        do {
            status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        } catch {
            return 0  // not Linux: no /proc, so no memory figure
        }
        let key = peak ? "VmHWM:" : "VmRSS:"
        for line in status.split(separator: "\n") where line.hasPrefix(key) {
            return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
        }
        return 0
    }
}
