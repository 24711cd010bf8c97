import Foundation
import SluiceRunLog
import SluiceJSON
import SluiceStorePostgres
import Synchronization

/// Issue #15's cross-replica target, on the wire: "an event written on A reaches a client on B
/// within 50 ms (p99) with 100 runs in flight". Two release `sluice serve` processes on one
/// PostgreSQL database (the throwaway cluster), offline (simulated model, local corpus); 100
/// `news_report` runs started on A at once, each followed by its own SSE client on B
/// (`GET /v1/runs/{id}/events`, woken by LISTEN/NOTIFY). Per event: from its time stamp in the
/// store (set on A when the engine emitted it, before it was stored, so the figure includes
/// A's batching and commit) to the moment the client on B had parsed it. Events stored
/// before the client's response head arrived were replayed, not pushed, and are left out.
///
/// Both replicas log their events' times (`SLUICE_BENCH_EVENT_TIMES`, see `EventTimesLog`), so
/// the figure comes with where it goes: on A from the engine to the store's writer, waiting
/// for a round, the round's commit; then B's wake-up, B's read, and B's SSE to the client.
/// `written_to_parsed_ms` is the issue's "an event written on A reaches a client on B": from
/// A's commit to the client's parse.
///
/// `SLUICE_BENCH_REPLICA_RUNS` (default 100) changes the number of runs in flight;
/// `SLUICE_BENCH_REPLICA_DELAY_MS` (default 15) the simulated model's delay per chunk;
/// `SLUICE_BENCH_REPLICA_FOLLOW=a` follows on A itself instead (the same-replica baseline:
/// its clients read the run's record in memory, after each batch is stored).
struct CrossReplicaLatencyBenchmark: Benchmark {
    let name = "cross_replica_event_latency"

    func run(_ context: BenchmarkContext) throws -> JSONValue {
        let environment = ProcessInfo.processInfo.environment
        let runs = environment["SLUICE_BENCH_REPLICA_RUNS"].flatMap(Int.init) ?? 100
        let delay = environment["SLUICE_BENCH_REPLICA_DELAY_MS"].flatMap(Int.init) ?? 15
        let url = try BenchmarkDatabase.create("bench_replicas")
        let executable = try WireBenchmark.sluiceExecutable()
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-replicas-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let repository = BenchmarkFiles.repository
        var replicas: [ServedProcess] = []
        defer { replicas.forEach { $0.stop() } }
        for name in ["a", "b"] {
            let home = scratch.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
            var serverEnvironment = environment.filter { key, _ in !key.hasPrefix("SLUICE_") && !key.hasSuffix("_API_KEY") && !key.hasSuffix("_BASE_URL") }
            serverEnvironment["SLUICE_HOME"] = home.path
            serverEnvironment["SLUICE_STORE"] = url
            serverEnvironment["SLUICE_BENCH_EVENT_TIMES"] = home.appendingPathComponent("event-times.log").path
            replicas.append(try ServedProcess(
                executable: executable,
                arguments: [
                    "serve", "--port", "0", "--plans", repository.appendingPathComponent("plans").path, "--offline",
                    "--corpus", repository.appendingPathComponent("corpus").path, "--simulated-delay-ms", String(delay),
                    "--runs-per-user", String(runs * 2),
                ],
                environment: serverEnvironment, directory: home))
        }
        let followOn = environment["SLUICE_BENCH_REPLICA_FOLLOW"] == "a" ? "a" : "b"
        let (a, b) = (replicas[0].port, followOn == "a" ? replicas[0].port : replicas[1].port)

        struct Followed {
            var runID: String
            var headAt: Double
            var events: [StreamedSSE.Event]
        }
        let followed = Mutex<[Followed]>([])
        let failures = Mutex<[String]>([])
        let group = DispatchGroup()
        let started = Date()
        for _ in 0..<runs {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                do {
                    let body = Array(#"{"inputs": {"task": "Major events in the AI agent industry this week"}}"#.utf8)
                    let posted = try WireExchange.send(port: a, method: "POST", path: "/v1/plans/news_report/runs", headers: ["Content-Type": "application/json"], body: body)
                    guard posted.status == 202, let runID = (try? JSONParser.parse(String(decoding: posted.body, as: UTF8.self)))?["run_id"]?.stringValue else {
                        throw BenchmarkFailure("POST on A: \(posted.status) \(String(decoding: posted.body.prefix(200), as: UTF8.self))")
                    }
                    // A's 202 comes before its run is recorded: B answers 404 until it is.
                    var headAt = 0.0
                    var events: [StreamedSSE.Event] = []
                    for attempt in 1...200 {
                        do {
                            events = try StreamedSSE.follow(port: b, path: "/v1/runs/\(runID)/events") { headAt = $0 }
                            break
                        } catch let failure as BenchmarkFailure where failure.description.contains(" 404 ") && attempt < 200 {
                            usleep(10_000)
                        }
                    }
                    followed.withLock { $0.append(Followed(runID: runID, headAt: headAt, events: events)) }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
        }
        group.wait()
        let wallSeconds = Date().timeIntervalSince(started)
        if let failure = failures.withLock({ $0.first }) { throw BenchmarkFailure("\(failures.withLock { $0.count }) runs failed; first: \(failure)") }
        let all = followed.withLock { $0 }

        // When each event was stamped on A, from the shared store.
        let measured = Mutex<[(key: String, parsedAt: Double)]>([])
        let latencies = try blockingAwait {
            let store = try await PostgresRunStore.open(url: url, owner: "bench@reader")
            defer { store.close() }
            var latencies: [Double] = []
            var unfinished = 0
            for run in all {
                let stored = try await store.events(runID: run.runID, after: 0, limit: nil)
                let written = Dictionary(uniqueKeysWithValues: stored.map { ($0.seq, $0.time.timeIntervalSince1970) })
                if run.events.last?.name != "final_result" { unfinished += 1 }
                for event in run.events {
                    guard let seq = Int(event.id), let time = written[seq], time > run.headAt else { continue }
                    latencies.append((event.parsedAt - time) * 1000)
                    measured.withLock { $0.append(("\(run.runID) \(seq)", event.parsedAt)) }
                }
            }
            if unfinished > 0 { throw BenchmarkFailure("\(unfinished) followed runs did not end with final_result") }
            return latencies
        }
        let sorted = latencies.sorted()
        guard !sorted.isEmpty else { throw BenchmarkFailure("no event was pushed to a follower") }
        func percentile(_ p: Double) -> JSONValue { sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p))].rounded(places: 1) }
        return [
            "runs_in_flight": .integer(Int64(runs)),
            "followed_on": .string(followOn),
            "simulated_delay_ms": .integer(Int64(delay)),
            "events_measured": .integer(Int64(sorted.count)),
            "events_replayed_before_attach": .integer(Int64(all.map(\.events.count).reduce(0, +) - sorted.count)),
            "wall_seconds": wallSeconds.rounded(places: 1),
            "latency_ms": ["p50": percentile(0.5), "p90": percentile(0.9), "p99": percentile(0.99), "max": percentile(1)],
            "target_p99_ms": 50,
            "breakdown_ms": EventTimes.breakdown(
                measured: measured.withLock { $0 }, a: scratch.appendingPathComponent("a/event-times.log"),
                b: scratch.appendingPathComponent("b/event-times.log")),
            "replica_cpu_seconds": ["a": replicas[0].cpuSeconds.rounded(places: 1), "b": replicas[1].cpuSeconds.rounded(places: 1)],
        ]
    }
}

/// The replicas' `SLUICE_BENCH_EVENT_TIMES` logs joined with the measured events: each stage's
/// p50 / p99 / max in milliseconds, over the events both logs name.
enum EventTimes {
    static func breakdown(measured: [(key: String, parsedAt: Double)], a: URL, b: URL) -> JSONValue {
        // `stored RUN SEQ PUBLISHED QUEUED BEGAN COMMITTED` on A; `read RUN SEQ WOKEN READ` on B.
        var stored: [String: [Double]] = [:]
        var read: [String: [Double]] = [:]
        for (url, kind) in [(a, "stored"), (b, "read")] {
            guard let text = try? String(contentsOf: url, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n") {
                let fields = line.split(separator: " ")
                guard fields.count >= 5, fields[0] == kind else { continue }
                let key = "\(fields[1]) \(fields[2])"
                let times = fields[3...].compactMap { Double($0) }
                if kind == "stored", stored[key] == nil { stored[key] = times }
                if kind == "read", read[key] == nil { read[key] = times }
            }
        }
        var stages: [(String, [Double])] = [
            ("published_to_queued", []), ("queued_to_round", []), ("round_to_committed", []), ("committed_to_woken_on_b", []),
            ("woken_to_read_on_b", []), ("read_to_parsed", []), ("written_to_parsed", []),
        ]
        var joined = 0
        for (key, parsedAt) in measured {
            guard let a = stored[key], a.count == 4 else { continue }
            let (published, queued, began, committed) = (a[0], a[1], a[2], a[3])
            stages[0].1.append(queued - published)
            stages[1].1.append(began - queued)
            stages[2].1.append(committed - began)
            stages[6].1.append(parsedAt - committed)
            guard let b = read[key], b.count == 2 else { continue }
            joined += 1
            stages[3].1.append(b[0] - committed)
            stages[4].1.append(b[1] - b[0])
            stages[5].1.append(parsedAt - b[1])
        }
        var result = JSONObject()
        result["events_with_times_on_a"] = .integer(Int64(stages[0].1.count))
        result["events_with_times_on_b"] = .integer(Int64(joined))
        for (name, values) in stages where !values.isEmpty {
            let sorted = values.map { $0 * 1000 }.sorted()
            func percentile(_ p: Double) -> JSONValue { sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p))].rounded(places: 1) }
            result[name] = ["p50": percentile(0.5), "p99": percentile(0.99), "max": percentile(1)]
        }
        return .object(result)
    }
}
