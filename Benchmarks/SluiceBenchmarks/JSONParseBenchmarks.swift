import Foundation
import SluiceJSON

/// JSON parse throughput of SluiceJSON (yajl) against Foundation's JSONSerialization.
struct JSONParseThroughputBenchmark: Benchmark {
    let name = "json_parse_throughput"

    func run(_ context: BenchmarkContext) throws -> JSONValue {
        let documents: [(String, [UInt8])] = [
            ("records", GeneratedDocuments.records(approximateBytes: 2 << 20)),
            ("text", GeneratedDocuments.text(approximateBytes: 2 << 20)),
            ("numbers", GeneratedDocuments.numbers(approximateBytes: 2 << 20)),
        ]
        var results: [(String, JSONValue)] = []
        for (name, bytes) in documents {
            let data = Data(bytes)
            let sluice = try context.bestTime { _ = try JSONParser.parse(bytes) }
            let foundation = try context.bestTime { _ = try JSONSerialization.jsonObject(with: data) }
            let megabytes = Double(bytes.count) / 1e6
            results.append((name, [
                "bytes": .integer(Int64(bytes.count)),
                "sluice_mb_per_s": (megabytes / sluice).rounded(places: 1),
                "foundation_mb_per_s": (megabytes / foundation).rounded(places: 1),
                "sluice_vs_foundation_speedup": (foundation / sluice).rounded(places: 2),
            ]))
        }
        return .object(JSONObject(results))
    }
}

/// A 1 MB document fed to the incremental parser in 8-byte chunks, against a one-shot parse.
/// The budget: the incremental parse takes less than twice as long.
struct IncrementalParseBenchmark: Benchmark {
    let name = "incremental_parse"
    let chunkSize = 8

    func run(_ context: BenchmarkContext) throws -> JSONValue {
        let bytes = GeneratedDocuments.records(approximateBytes: 1 << 20)
        let oneShot = try context.bestTime { _ = try JSONParser.parse(bytes) }
        let chunked = try context.bestTime {
            let parser = JSONIncrementalParser()
            var start = 0
            while start < bytes.count {
                let end = min(start + chunkSize, bytes.count)
                try parser.feed(bytes[start..<end])
                start = end
            }
            _ = try parser.finish()
        }
        let whole = try context.bestTime {
            let parser = JSONIncrementalParser()
            try parser.feed(bytes)
            _ = try parser.finish()
        }
        let megabytes = Double(bytes.count) / 1e6
        return [
            "bytes": .integer(Int64(bytes.count)),
            "chunk_bytes": .integer(Int64(chunkSize)),
            "one_shot_ms": (oneShot * 1000).rounded(places: 2),
            "incremental_ms": (chunked * 1000).rounded(places: 2),
            "incremental_single_chunk_ms": (whole * 1000).rounded(places: 2),
            "incremental_mb_per_s": (megabytes / chunked).rounded(places: 1),
            "incremental_vs_one_shot_ratio": (chunked / oneShot).rounded(places: 2),
            "ratio_budget": 2,
            "within_budget": .bool(chunked / oneShot < 2),
        ]
    }
}
