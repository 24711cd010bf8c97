import Foundation
import SluiceFakeServices
import SluiceJSON
import SluiceProviders
import Synchronization

/// Waits on this (non-pool) thread for async work: the benchmark protocol is synchronous.
func blockingAwait<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let box = Mutex<Result<T, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task {
        let result: Result<T, any Error>
        do { result = .success(try await body()) } catch { result = .failure(error) }
        box.withLock { $0 = result }
        done.signal()
    }
    done.wait()
    guard let result = box.withLock({ $0 }) else { throw BenchmarkFailure("no result") }
    return try result.get()
}

struct BenchmarkFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

private func monotonicNanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

private func model(_ server: FakeHTTPServer) -> OpenAICompatibleModel {
    OpenAICompatibleModel(configuration: .init(baseURL: server.baseURL + "/v1", apiKey: "bench", retry: .none))
}

private let request = ModelRequest(model: ModelID(provider: "openai", name: "bench"), prompt: "stream")

/// One model stream through libcurl from a loopback fake: deltas per second when the server
/// sends as fast as it can, and the latency each delta gains between the server's send and
/// `onDelta` when the server paces them (1 ms apart, so nothing queues).
struct HTTPStreamingBenchmark: Benchmark {
    let name = "http_model_stream"
    var burstDeltas = 20_000
    var pacedDeltas = 400

    func run(_ context: BenchmarkContext) throws -> JSONValue {
        let burst = try FakeHTTPServer.scripted([FakeOpenAI.generatedStream(count: burstDeltas, pause: .zero) { "token\($0) " }])
        defer { burst.stop() }
        let burstModel = model(burst)
        let seconds = try context.bestTime {
            let count = try blockingAwait {
                let counter = Atomic<Int>(0)
                _ = try await burstModel.generate(request) { _ in counter.add(1, ordering: .relaxed) }
                return counter.load(ordering: .relaxed)
            }
            guard count == burstDeltas else { throw BenchmarkFailure("expected \(burstDeltas) deltas, got \(count)") }
        }

        let paced = try FakeHTTPServer.scripted([FakeOpenAI.generatedStream(count: pacedDeltas, pause: .milliseconds(1)) { _ in "\(monotonicNanoseconds())" }])
        defer { paced.stop() }
        let pacedModel = model(paced)
        let latencies = try blockingAwait {
            let samples = Mutex<[Double]>([])
            _ = try await pacedModel.generate(request) { delta in
                let now = monotonicNanoseconds()
                if let sent = UInt64(delta) { samples.withLock { $0.append(Double(now &- sent) / 1000) } }
            }
            return samples.withLock { $0 }.sorted()
        }
        guard !latencies.isEmpty else { throw BenchmarkFailure("no paced deltas arrived") }
        func percentile(_ p: Double) -> JSONValue { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))].rounded(places: 1) }
        return [
            "burst_deltas": .integer(Int64(burstDeltas)),
            "burst_seconds": seconds.rounded(places: 4),
            "deltas_per_second": (Double(burstDeltas) / seconds).rounded(places: 0),
            "paced_deltas": .integer(Int64(latencies.count)),
            "added_latency_us_p50": percentile(0.5),
            "added_latency_us_p99": percentile(0.99),
        ]
    }
}

/// Many model streams at once in one process, all on the client's single network thread.
struct ConcurrentStreamsBenchmark: Benchmark {
    let name = "http_concurrent_streams"
    var streams = 500
    var deltasPerStream = 50

    func run(_ context: BenchmarkContext) throws -> JSONValue {
        let server = try FakeHTTPServer.scripted([FakeOpenAI.generatedStream(count: deltasPerStream, pause: .milliseconds(5)) { "t\($0) " }])
        defer { server.stop() }
        let streamModel = model(server)
        let (streams, deltasPerStream) = (self.streams, self.deltasPerStream)
        let start = ContinuousClock.now
        let received = try blockingAwait {
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<streams {
                    group.addTask {
                        let counter = Atomic<Int>(0)
                        _ = try await streamModel.generate(request) { _ in counter.add(1, ordering: .relaxed) }
                        return counter.load(ordering: .relaxed)
                    }
                }
                return try await group.reduce(0, +)
            }
        }
        let seconds = (ContinuousClock.now - start).seconds
        guard received == streams * deltasPerStream else { throw BenchmarkFailure("expected \(streams * deltasPerStream) deltas, got \(received)") }
        return [
            "streams": .integer(Int64(streams)),
            "deltas": .integer(Int64(received)),
            // Each stream alone takes about deltas × 5 ms; the rest is the cost of concurrency.
            "ideal_seconds": (Double(deltasPerStream) * 0.005).rounded(places: 3),
            "seconds": seconds.rounded(places: 3),
            "deltas_per_second": (Double(received) / seconds).rounded(places: 0),
        ]
    }
}
