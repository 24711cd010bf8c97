import Foundation
import SluiceEngine
import SluiceJSON
import SluicePlan
import SluiceProviders
import SluiceServer
import Synchronization

/// MCP `tools/call` throughput through the session layer (JSON-RPC dispatch, argument
/// validation, run manager, engine, notification rendering) with an instant model:
/// news_report calls at concurrency 50. Reports calls/s, p50/p99 latency, CPU ms per call and
/// peak RSS. The transports add framing on top (see the stdio and HTTP tests for behaviour).
///
/// `SLUICE_BENCH_MCP_CALLS` sets the number of calls (default 500).
struct MCPToolCallBenchmark: Benchmark {
    let name = "mcp_tools_call_concurrency_50"
    static let concurrency = 50

    func run(_ context: BenchmarkContext) throws -> JSONValue {
        let calls = ProcessInfo.processInfo.environment["SLUICE_BENCH_MCP_CALLS"].flatMap(Int.init) ?? 500
        let plans = BenchmarkFiles.repository.appendingPathComponent("plans").path
        let catalog = PlanCatalog(directories: [plans])
        let (library, problems) = PlanLibrary.load(catalog: catalog)
        guard problems.isEmpty else { throw BenchmarkFailure("plans: \(problems)") }
        let corpus = try Corpus.load(folder: BenchmarkFiles.repository.appendingPathComponent("corpus").path)
        let providers = RunEngine.Providers(
            model: ModelRouter(fallback: LatencyModel(latency: .zero)),
            search: CorpusSearchProvider(corpus: corpus), fetch: CorpusFetchProvider(corpus: corpus),
            documents: LocalDocumentLoader(root: BenchmarkFiles.repository.path)
        )
        let executor = EngineRunExecutor(providers: providers, configuration: RunEngine.Configuration(catalog: catalog, defaultModel: "openai:gpt-4o-mini"))
        let runs = RunManager(executor: executor, registry: InMemoryRunRegistry(capacity: 100))
        let server = MCPServer(library: library, runs: runs)
        let counter = CountingOutbound()
        let cpuBefore = Self.cpuSeconds()
        let clock = ContinuousClock()
        let start = clock.now
        let (latencies, failures) = runBlocking {
            await withTaskGroup(of: Void.self) { service in
                service.addTask { await runs.run() }
                let outcome = await withTaskGroup(of: (Double, Bool).self) { group -> ([Double], Int) in
                    var latencies: [Double] = []
                    var failures = 0
                    var next = 0
                    func add(_ group: inout TaskGroup<(Double, Bool)>) {
                        let id = next
                        next += 1
                        group.addTask {
                            let session = server.makeSession(user: "bench", unrelated: counter)
                            let request = JSONRPCMessage.request(id: .integer(Int64(id)), method: "tools/call", params: [
                                "name": "news_report", "arguments": ["task": "AI agents this week", "max_iterations": 1],
                                "_meta": ["progressToken": .integer(Int64(id))],
                            ])
                            let began = ContinuousClock().now
                            let response = await session.handle(request, outbound: counter)
                            let ok: Bool = if case .result(_, let result)? = response, result["isError"] == false { true } else { false }
                            if !ok, id == 0 { FileHandle.standardError.write(Data("first failure: \(response?.serialized ?? "no response")\n".utf8)) }
                            return ((ContinuousClock().now - began).seconds, ok)
                        }
                    }
                    for _ in 0..<min(Self.concurrency, calls) { add(&group) }
                    while let (latency, ok) = await group.next() {
                        latencies.append(latency)
                        if !ok { failures += 1 }
                        if next < calls { add(&group) }
                    }
                    return (latencies, failures)
                }
                service.cancelAll()
                return outcome
            }
        }
        let wall = (clock.now - start).seconds
        let cpu = Self.cpuSeconds() - cpuBefore
        let sorted = latencies.sorted()
        func percentile(_ p: Double) -> Double {
            sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
        }
        return [
            "calls": .integer(Int64(calls)),
            "failed": .integer(Int64(failures)),
            "concurrency": .integer(Int64(Self.concurrency)),
            "calls_per_s": (Double(calls) / wall).rounded(places: 1),
            "p50_ms": (percentile(0.5) * 1000).rounded(places: 2),
            "p99_ms": (percentile(0.99) * 1000).rounded(places: 2),
            "cpu_ms_per_call": (cpu * 1000 / Double(max(1, calls))).rounded(places: 2),
            "notifications_per_call": (Double(counter.count) / Double(max(1, calls))).rounded(places: 1),
            "peak_rss_kb": .integer(Int64(ConcurrentRunsBenchmark.residentKilobytes(peak: true))),
        ]
    }

    /// User plus system CPU time of this process, in seconds.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
}

/// Counts the notifications a call sends (the benchmark's stand-in for a transport).
final class CountingOutbound: MCPOutbound {
    private let sent = Mutex(0)
    var count: Int { sent.withLock { $0 } }

    func send(_ message: JSONRPCMessage) async {
        sent.withLock { $0 += 1 }
    }
}
