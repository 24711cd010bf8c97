import Foundation
import SluiceJSON

/// Every benchmark, in output order. Add new ones here (each in its own file).
enum BenchmarkRegistry {
    static let all: [any Benchmark] = [
        JSONParseThroughputBenchmark(),
        IncrementalParseBenchmark(),
        PlanLoadBenchmark(),
        SchemaPatternBenchmark(),
        LargePlanValidateBenchmark(),
        HTTPStreamingBenchmark(),
        ConcurrentStreamsBenchmark(),
        StoreAppendBenchmark(),
        StoreResumeBenchmark(),
        EngineStepOverheadBenchmark(),
        NDJSONThroughputBenchmark(),
        ConcurrentRunsBenchmark(),
        MCPToolCallBenchmark(),
        SSEFanOutBenchmark(),
    ]

    /// The served path from outside (`--wire`, `make bench-wire`): real processes and sockets.
    static let wire: [any Benchmark] = [WireBenchmark()]

    /// The PostgreSQL store (`--store`, `make bench-store`): a throwaway cluster, and for the
    /// cross-replica figure two real `sluice serve` replicas on it.
    static let store: [any Benchmark] = [PostgresAppendBenchmark(), PostgresClaimBenchmark(), CrossReplicaLatencyBenchmark()]
}

/// Usage: SluiceBenchmarks [--wire | --store] [--filter SUBSTRING] [--repetitions N]
/// Prints one JSON object: `{"benchmarks": {name: result, ...}, ...}`. Run it in release.
struct BenchmarkCommand {
    var filter: String?
    var repetitions = 5
    /// Run the wire benchmarks instead of the in-process ones.
    var wire = false
    /// Run the PostgreSQL store benchmarks instead.
    var store = false

    init(arguments: [String]) throws(UsageError) {
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--wire":
                wire = true
            case "--store":
                store = true
            case "--filter":
                guard let value = iterator.next() else { throw UsageError(message: "--filter needs a value") }
                filter = value
            case "--repetitions":
                guard let value = iterator.next(), let count = Int(value), count > 0 else {
                    throw UsageError(message: "--repetitions needs a positive integer")
                }
                repetitions = count
            default:
                throw UsageError(message: "unknown argument '\(argument)'; usage: SluiceBenchmarks [--wire | --store] [--filter SUBSTRING] [--repetitions N]")
            }
        }
    }

    func run() -> Int32 {
        let context = BenchmarkContext(repetitions: repetitions)
        var results: [(String, JSONValue)] = []
        var failed = false
        let chosen = store ? BenchmarkRegistry.store : wire ? BenchmarkRegistry.wire : BenchmarkRegistry.all
        for benchmark in chosen where filter.map({ benchmark.name.contains($0) }) ?? true {
            do {
                results.append((benchmark.name, try benchmark.run(context)))
            } catch {
                results.append((benchmark.name, ["error": .string(String(describing: error))]))
                failed = true
            }
        }
        #if DEBUG
        let configuration = "debug"
        #else
        let configuration = "release"
        #endif
        let report: JSONValue = [
            "configuration": .string(configuration),
            "repetitions": .integer(Int64(repetitions)),
            "benchmarks": .object(JSONObject(results)),
        ]
        print(report.serialized(pretty: true))
        return failed ? 1 : 0
    }
}

struct UsageError: Error {
    var message: String
}

do {
    let command = try BenchmarkCommand(arguments: Array(CommandLine.arguments.dropFirst()))
    exit(command.run())
} catch {
    print(JSONValue.object(JSONObject([("error", .string(error.message))])).serialized())
    exit(64)
}
