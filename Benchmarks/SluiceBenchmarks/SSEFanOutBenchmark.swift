import Foundation
import SluiceEngine
import SluiceJSON
import SluicePlan
import SluiceProviders
import SluiceServer
import Synchronization

/// REST + SSE to many clients at once over real loopback sockets (checking that no stream skips
/// an event id): the real `SluiceHTTPServer`
/// on 127.0.0.1 (OS-assigned port) with the offline providers and a zero-delay simulated
/// model; N clients each `POST /v1/plans/news_report/runs` with `Accept: text/event-stream`
/// and read the stream to its end. Reports total and per-client events/s and wall time for
/// each N. The clients are blocking sockets on their own threads, so they compete with the
/// server for the same cores: the figures are a floor, not the server alone.
///
/// `SLUICE_BENCH_SSE_CLIENTS` sets the client counts (comma-separated, default `50,200`).
struct SSEFanOutBenchmark: Benchmark {
    let name = "sse_events_many_clients"
    static let plan = "news_report"
    static let body = #"{"inputs": {"task": "AI agents this week", "max_iterations": 1}}"#

    func run(_ context: BenchmarkContext) throws -> JSONValue {
        let clientCounts = (ProcessInfo.processInfo.environment["SLUICE_BENCH_SSE_CLIENTS"] ?? "50,200")
            .split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.filter { $0 > 0 }
        guard !clientCounts.isEmpty else { throw BenchmarkFailure("SLUICE_BENCH_SSE_CLIENTS names no positive count") }
        let server = try Self.makeServer()
        let ports = PortHandoff<Int>()
        let serving = Task {
            do {
                try await server.run(handleSignals: false) { ports.put($0) }
            } catch {
                FileHandle.standardError.write(Data("sse benchmark: the server stopped: \(error)\n".utf8))
            }
            ports.put(0)
        }
        defer {
            // A graceful stop (bounded by the configuration's grace period and margin):
            // cancelling the task instead makes the server log a cancellation error.
            runBlocking {
                await server.shutdown()
                await serving.value
            }
        }
        guard let port = ports.takeBlocking(), port > 0 else { throw BenchmarkFailure("the server did not start") }

        var rounds: [(String, JSONValue)] = []
        for clients in clientCounts {
            rounds.append(("clients_\(clients)", try Self.round(clients: clients, port: port)))
        }
        return .object(JSONObject([("plan", .string(Self.plan))] + rounds))
    }

    /// One round: `clients` streams at once; the clock runs from the first connect to the last byte.
    static func round(clients: Int, port: Int) throws -> JSONValue {
        let results = Mutex<[Result<SSEClientResult, BenchmarkFailure>]>([])
        let finished = DispatchGroup()
        let start = ContinuousClock.now
        for _ in 0..<clients {
            finished.enter()
            let thread = Thread {
                let result = Result { () throws(BenchmarkFailure) in try SSEBenchmarkClient.stream(port: port, path: "/v1/plans/\(plan)/runs", body: body) }
                results.withLock { $0.append(result) }
                finished.leave()
            }
            thread.stackSize = 256 * 1024
            thread.start()
        }
        finished.wait()
        let wall = (ContinuousClock.now - start).seconds
        let outcomes = results.withLock { $0 }
        var events = 0
        var completed = 0
        var perClientRates: [Double] = []
        var perClientEvents: [Int] = []
        var skippedIDs = 0
        var firstFailure: String?
        for outcome in outcomes {
            switch outcome {
            case .success(let client):
                events += client.events
                perClientEvents.append(client.events)
                skippedIDs += client.skippedIDs
                if client.endedWithFinalResult { completed += 1 }
                perClientRates.append(Double(client.events) / max(client.seconds, 1e-9))
            case .failure(let failure):
                if firstFailure == nil { firstFailure = failure.description }
            }
        }
        perClientRates.sort()
        var report: JSONObject = [
            "clients": .integer(Int64(clients)),
            "completed_runs": .integer(Int64(completed)),
            "events": .integer(Int64(events)),
            "events_per_client": (Double(events) / Double(max(1, outcomes.count))).rounded(places: 1),
            // Every run is the same plan on the same inputs: min below max means a stream lost events.
            "events_per_client_min": .integer(Int64(perClientEvents.min() ?? 0)),
            "events_per_client_max": .integer(Int64(perClientEvents.max() ?? 0)),
            "skipped_event_ids": .integer(Int64(skippedIDs)),
            "wall_s": wall.rounded(places: 3),
            "events_per_s": (Double(events) / wall).rounded(places: 0),
            "per_client_events_per_s_p50": (perClientRates.isEmpty ? 0 : perClientRates[perClientRates.count / 2]).rounded(places: 1),
            "per_client_events_per_s_min": (perClientRates.first ?? 0).rounded(places: 1),
        ]
        if let firstFailure { report["first_failure"] = .string(firstFailure) }
        return .object(report)
    }

    static func makeServer() throws -> SluiceHTTPServer {
        let repository = BenchmarkFiles.repository
        let catalog = PlanCatalog(directories: [repository.appendingPathComponent("plans").path])
        let (library, problems) = PlanLibrary.load(catalog: catalog)
        guard problems.isEmpty else { throw BenchmarkFailure("plans: \(problems)") }
        let providers = try RunEngine.Providers.offline(
            corpusFolder: repository.appendingPathComponent("corpus").path, documentsRoot: repository.path,
            model: SimulatedModel.Configuration(chunkDelay: .zero)
        )
        let executor = EngineRunExecutor(providers: providers, configuration: RunEngine.Configuration(catalog: catalog, defaultModel: "openai:gpt-4o-mini"))
        let metrics = ServerMetrics()
        let runs = RunManager(executor: executor, registry: InMemoryRunRegistry(capacity: 1000), observer: metrics)
        var configuration = SluiceHTTPServer.Configuration(port: 0, shutdownGracePeriod: .zero)
        configuration.shutdownMargin = .seconds(2)
        return SluiceHTTPServer(mcp: MCPServer(library: library, runs: runs), configuration: configuration, metrics: metrics)
    }
}

/// A one-value handoff from async code to a blocking thread (or to async code).
final class PortHandoff<Value: Sendable>: Sendable {
    private let value = Mutex<Value?>(nil)
    private let ready = DispatchSemaphore(value: 0)

    func put(_ newValue: Value) {
        let first = value.withLock { current in
            guard current == nil else { return false }
            current = newValue
            return true
        }
        if first { ready.signal() }
    }

    func takeBlocking() -> Value? {
        ready.wait()
        return value.withLock { $0 }
    }
}
