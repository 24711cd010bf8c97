import SluiceJSON

/// One measurement the benchmark executable can run; its result becomes one member of the
/// printed JSON object, under `name`.
///
/// To add a benchmark: write a type conforming to this in its own file and list it in
/// `BenchmarkRegistry.all` (main.swift).
protocol Benchmark: Sendable {
    /// A stable snake_case key for the output and for `--filter`.
    var name: String { get }
    func run(_ context: BenchmarkContext) throws -> JSONValue
}

/// Shared settings for a benchmark run.
struct BenchmarkContext {
    /// How many times each timed operation is repeated; the fastest run counts.
    var repetitions = 5

    /// The fastest of `repetitions` runs of `body`, in seconds.
    func bestTime(_ body: () throws -> Void) rethrows -> Double {
        let clock = ContinuousClock()
        var best = Double.infinity
        for _ in 0..<max(1, repetitions) {
            let start = clock.now
            try body()
            best = min(best, (clock.now - start).seconds)
        }
        return best
    }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

extension Double {
    /// Rounded for a readable report (benchmarks are not precise past three digits).
    func rounded(places: Int) -> JSONValue {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        return .double((self * scale).rounded() / scale)
    }
}
