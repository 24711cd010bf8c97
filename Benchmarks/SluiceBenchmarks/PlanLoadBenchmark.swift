import Foundation
import SluiceJSON
import SluicePlan

/// Load + validate time of plans/news_report.json: parse, schema, model, scope and type checks.
struct PlanLoadBenchmark: Benchmark {
    let name = "plan_load_validate"

    struct MissingPlan: Error, CustomStringConvertible {
        var description: String
    }

    func run(_ context: BenchmarkContext) throws -> JSONValue {
        let repository = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let plans = repository.appendingPathComponent("plans")
        let path = plans.appendingPathComponent("news_report.json").path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw MissingPlan(description: "cannot read \(path)")
        }
        let bytes = [UInt8](data)
        let loader = PlanLoader(catalog: PlanCatalog(directories: [plans.path]))
        // The first load also compiles plan.schema.json once; measure it apart.
        let clock = ContinuousClock()
        let start = clock.now
        _ = try loader.load(bytes: bytes, path: path)
        let first = (clock.now - start).seconds
        var samples: [Double] = []
        for _ in 0..<max(20, context.repetitions * 4) {
            samples.append(try context.bestTime { _ = try loader.load(bytes: bytes, path: path) })
        }
        samples.sort()
        return [
            "plan_bytes": .integer(Int64(bytes.count)),
            "first_load_ms": (first * 1e3).rounded(places: 3),
            "median_ms": (samples[samples.count / 2] * 1e3).rounded(places: 3),
            "min_ms": (samples[0] * 1e3).rounded(places: 3),
        ]
    }
}
