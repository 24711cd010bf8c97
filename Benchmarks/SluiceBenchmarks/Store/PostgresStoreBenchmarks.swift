import Foundation
import SluiceRunLog
import SluiceJSON
import SluiceStore
import SluiceStorePostgres
import SluiceTesting
import Synchronization

/// A database of the throwaway PostgreSQL cluster (``PostgresCluster``, started on first use
/// and stopped when the benchmark process exits) for one benchmark.
enum BenchmarkDatabase {
    static func create(_ prefix: String) throws -> String {
        guard let cluster = try PostgresCluster.shared() else {
            throw BenchmarkFailure("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb); install Debian's postgresql package")
        }
        return try cluster.createDatabase(prefix: prefix)
    }
}

/// Event log appends on PostgreSQL (issue #15's target: ≥ 20,000 events/s batched): batches
/// of 256 as a run's store sink hands them over, from one writer and from eight runs writing
/// at once, and one transaction per event for comparison. Every append checks the `seq`,
/// saves checkpoints and NOTIFYs, as in service.
struct PostgresAppendBenchmark: Benchmark {
    let name = "postgres_event_append"

    func run(_ context: BenchmarkContext) throws -> JSONValue {
        let url = try BenchmarkDatabase.create("bench_append")
        return try blockingAwait {
            let store = try await PostgresRunStore.open(url: url, owner: "bench@append")
            defer { store.close() }
            var result = JSONObject()
            for (label, writers, perWriter, batch) in [("batched_256_one_writer", 1, 50_000, 256), ("batched_256_eight_writers", 8, 10_000, 256), ("one_per_transaction", 1, 2_000, 1)] {
                var best = Double.infinity
                for repetition in 0..<max(1, min(context.repetitions, 3)) {
                    let runs = (0..<writers).map { "append_\(label)_\(repetition)_\($0)" }
                    for run in runs {
                        try await store.createRun(NewRun(id: run, plan: PlanIdentity(name: "bench", path: "bench.json", contentHash: "0"), inputs: [:]))
                    }
                    let logs = runs.map { BenchmarkStore.events(runID: $0, count: perWriter) }
                    let started = ContinuousClock.now
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for log in logs {
                            group.addTask {
                                var start = 0
                                while start < log.count {
                                    try await store.append(Array(log[start..<min(start + batch, log.count)]))
                                    start += batch
                                }
                            }
                        }
                        try await group.waitForAll()
                    }
                    best = min(best, (ContinuousClock.now - started).seconds)
                }
                result[label] = [
                    "events": .integer(Int64(writers * perWriter)),
                    "seconds": best.rounded(places: 3),
                    "events_per_s": (Double(writers * perWriter) / best).rounded(places: 0),
                ]
            }
            result["target_events_per_s"] = 20_000
            return .object(result)
        }
    }
}

/// The run queue: how long a queued run waits before an idle replica claims it (enqueued by
/// one store, claimed by another that waits for the queue's NOTIFY, as `sluice serve`'s claim
/// loop does), and how fast four claimers drain a queue of 2,000 runs with
/// `FOR UPDATE SKIP LOCKED` (one run per claim).
struct PostgresClaimBenchmark: Benchmark {
    let name = "postgres_run_claim"

    func run(_ context: BenchmarkContext) throws -> JSONValue {
        let url = try BenchmarkDatabase.create("bench_claim")
        return try blockingAwait {
            let producer = try await PostgresRunStore.open(url: url, owner: "bench@producer")
            let consumer = try await PostgresRunStore.open(url: url, owner: "bench@consumer")
            defer {
                producer.close()
                consumer.close()
            }
            return [
                "enqueue_to_claim_ms": try await Self.wakeToClaim(producer: producer, consumer: consumer, runs: 300),
                "drain_queue": try await Self.drain(url: url, producer: producer, runs: 2_000, claimers: 4),
            ]
        }
    }

    static func newRun(_ id: String) -> NewRun {
        NewRun(id: id, plan: PlanIdentity(name: "bench", path: "bench.json", contentHash: "0"), inputs: ["task": "t"])
    }

    /// From just before `enqueueRun` to the consumer's claim returning it, one run at a time.
    static func wakeToClaim(producer: PostgresRunStore, consumer: PostgresRunStore, runs: Int) async throws -> JSONValue {
        let enqueued = Shared<[String: ContinuousClock.Instant]>([:])
        let latencies = Shared<[Double]>([])
        _ = consumer.watchEvents(runID: RunQueueWakeup.key)
        defer { consumer.unwatchEvents(runID: RunQueueWakeup.key) }
        let claimer = Task {
            while !Task.isCancelled {
                let seen = consumer.eventGeneration(runID: RunQueueWakeup.key)
                let claimed = try await consumer.claimQueuedRuns(limit: 8, plans: [newRun("").plan])
                let now = ContinuousClock.now
                for run in claimed {
                    if let start = enqueued.withLock({ $0[run.id] }) { latencies.withLock { $0.append((now - start).seconds * 1000) } }
                }
                if claimed.isEmpty { await consumer.waitForEvents(runID: RunQueueWakeup.key, seen: seen, timeout: .seconds(1)) }
            }
        }
        // Let the consumer's LISTEN connection come up before measuring.
        try await Task.sleep(for: .milliseconds(500))
        for index in 0..<runs {
            let id = "claim_\(index)"
            enqueued.withLock { $0[id] = ContinuousClock.now }
            try await producer.enqueueRun(newRun(id))
            try await Task.sleep(for: .milliseconds(5))
        }
        for _ in 0..<200 where latencies.withLock({ $0.count }) < runs { try await Task.sleep(for: .milliseconds(10)) }
        claimer.cancel()
        return summary(latencies.withLock { $0 }, expected: runs)
    }

    /// Four claimers, one run per claim, until the queue is empty.
    static func drain(url: String, producer: PostgresRunStore, runs: Int, claimers: Int) async throws -> JSONValue {
        for index in 0..<runs { try await producer.enqueueRun(newRun("drain_\(index)")) }
        var stores: [PostgresRunStore] = []
        for index in 0..<claimers { stores.append(try await PostgresRunStore.open(url: url, owner: "bench@claimer\(index)")) }
        defer { stores.forEach { $0.close() } }
        let latencies = Shared<[Double]>([])
        let claimedIDs = Shared<[String]>([])
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for store in stores {
                group.addTask {
                    while true {
                        let before = ContinuousClock.now
                        let claimed = try await store.claimQueuedRuns(limit: 1, plans: [newRun("").plan])
                        guard let run = claimed.first else { return }
                        latencies.withLock { $0.append((ContinuousClock.now - before).seconds * 1000) }
                        claimedIDs.withLock { $0.append(run.id) }
                    }
                }
            }
            try await group.waitForAll()
        }
        let seconds = (ContinuousClock.now - started).seconds
        let ids = claimedIDs.withLock { $0 }
        guard Set(ids).count == ids.count, ids.count == runs else {
            throw BenchmarkFailure("claims overlapped or missed runs: \(ids.count) claims, \(Set(ids).count) distinct, \(runs) queued")
        }
        var result = summary(latencies.withLock { $0 }, expected: runs).objectValue ?? JSONObject()
        result["claimers"] = .integer(Int64(claimers))
        result["claims_per_s"] = (Double(runs) / seconds).rounded(places: 0)
        return .object(result)
    }

    static func summary(_ values: [Double], expected: Int) -> JSONValue {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return ["samples": 0, "expected": .integer(Int64(expected))] }
        func percentile(_ p: Double) -> JSONValue { sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p))].rounded(places: 2) }
        return [
            "samples": .integer(Int64(sorted.count)), "expected": .integer(Int64(expected)),
            "p50": percentile(0.5), "p90": percentile(0.9), "p99": percentile(0.99), "max": percentile(1),
        ]
    }
}

/// A value several tasks update.
final class Shared<Value: Sendable>: Sendable {
    private let value: Mutex<Value>

    init(_ value: Value) { self.value = Mutex(value) }

    func withLock<T>(_ body: (inout Value) -> T) -> T { value.withLock { body(&$0) } }
}
