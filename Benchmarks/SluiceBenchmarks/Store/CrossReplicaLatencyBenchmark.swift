import Foundation
import SluiceFakeServices
import SluiceRunLog
import SluiceJSON
import SluiceStorePostgres
import SluiceTesting
import Synchronization

/// Issue #15's cross-replica target, on the wire: "an event written on A reaches a client on B
/// within 50 ms (p99) with 100 runs in flight". Two release `sluice serve` processes on one
/// PostgreSQL database (the throwaway cluster); 100 `news_report` runs started on A at once,
/// each followed by its own SSE client on B (`GET /v1/runs/{id}/events`, woken by
/// LISTEN/NOTIFY). Two workloads, each on its own database and pair of replicas:
/// - `served`: the runs call the loopback fake model and search services as served runs do
///   (`SimulatedServices` with the wire benchmark's timing: 50 ms to the first token, 2 ms per
///   streamed token), so 100 runs are in flight together for several seconds, waiting on
///   their model calls most of the time — what "100 runs in flight" means for a server;
/// - `offline_saturated`: `--offline` runs (simulated model, local corpus, no latency but the
///   simulated delay per chunk), which go flat out: a stress figure, the machine saturated.
///
/// Per event: from its time stamp in the store (set on A when the engine emitted it, before it
/// was stored, so the figure includes A's batching and commit) to the moment the client on B
/// had parsed it. Events stored before the client's response head arrived were replayed, not
/// pushed, and are left out.
///
/// Both replicas log their events' times (`SLUICE_BENCH_EVENT_TIMES`, see `EventTimesLog`), so
/// the figure comes with where it goes: on A from the engine to the store's writer, waiting
/// for a round, the round's commit; then B's wake-up, B's read, and B's SSE to the client.
/// `written_to_parsed_ms` is the issue's "an event written on A reaches a client on B": from
/// A's commit to the client's parse. CPU seconds of A, B, PostgreSQL (every backend) and this
/// process (the clients, and the fakes for `served`) are measured over each workload.
///
/// `SLUICE_BENCH_REPLICA_WORKLOAD` (`served`, `offline`; both by default) picks the workloads;
/// `SLUICE_BENCH_REPLICA_RUNS` (default 100) changes the number of runs in flight;
/// `SLUICE_BENCH_REPLICA_DELAY_MS` (default 15) the offline simulated model's delay per chunk;
/// `SLUICE_BENCH_REPLICA_FOLLOW=a` follows on A itself instead (the same-replica baseline:
/// its clients read the run's record in memory, after each batch is stored);
/// `SLUICE_BENCH_REPLICA_PAUSE=1` prints the replicas' pids on stderr and waits 5 s before the
/// runs start (to attach `perf record -p`).
struct CrossReplicaLatencyBenchmark: Benchmark {
    let name = "cross_replica_event_latency"

    enum Workload: String, CaseIterable {
        case served
        case offline
    }

    func run(_ context: BenchmarkContext) throws -> JSONValue {
        let environment = ProcessInfo.processInfo.environment
        let chosen = environment["SLUICE_BENCH_REPLICA_WORKLOAD"].map { name in Workload.allCases.filter { $0.rawValue == name } } ?? Workload.allCases
        guard !chosen.isEmpty else { throw BenchmarkFailure("SLUICE_BENCH_REPLICA_WORKLOAD must be served or offline") }
        var result = JSONObject()
        for workload in chosen {
            result[workload == .served ? "served" : "offline_saturated"] = try measure(workload, environment: environment)
        }
        return .object(result)
    }

    private func measure(_ workload: Workload, environment: [String: String]) throws -> JSONValue {
        let runs = environment["SLUICE_BENCH_REPLICA_RUNS"].flatMap(Int.init) ?? 100
        let delay = environment["SLUICE_BENCH_REPLICA_DELAY_MS"].flatMap(Int.init) ?? 15
        let url = try BenchmarkDatabase.create("bench_replicas")
        let executable = try WireBenchmark.sluiceExecutable()
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-replicas-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let repository = BenchmarkFiles.repository
        let services = workload == .served ? try SimulatedServices(timing: WireBenchmark.modelTiming) : nil
        defer { services?.stop() }
        let workloadArguments =
            workload == .served
            ? [] : ["--offline", "--corpus", repository.appendingPathComponent("corpus").path, "--simulated-delay-ms", String(delay)]
        var replicas: [ServedProcess] = []
        defer { replicas.forEach { $0.stop() } }
        for name in ["a", "b"] {
            let home = scratch.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
            var serverEnvironment = WireBenchmark.serverEnvironment(environment, services: services)
            serverEnvironment["SLUICE_HOME"] = home.path
            serverEnvironment["SLUICE_STORE"] = url
            serverEnvironment["SLUICE_BENCH_EVENT_TIMES"] = home.appendingPathComponent("event-times.log").path
            replicas.append(try ServedProcess(
                executable: executable,
                arguments: ["serve", "--port", "0", "--plans", repository.appendingPathComponent("plans").path, "--runs-per-user", String(runs * 2)]
                    + workloadArguments,
                environment: serverEnvironment, directory: home))
        }
        let followOn = environment["SLUICE_BENCH_REPLICA_FOLLOW"] == "a" ? "a" : "b"
        let (a, b) = (replicas[0].port, followOn == "a" ? replicas[0].port : replicas[1].port)
        if environment["SLUICE_BENCH_REPLICA_PAUSE"] == "1" {
            FileHandle.standardError.write(Data("\(workload.rawValue): replica A pid \(replicas[0].process.processIdentifier), B pid \(replicas[1].process.processIdentifier)\n".utf8))
            sleep(5)
        }

        struct Followed {
            var runID: String
            var headAt: Double
            var events: [StreamedSSE.Event]
        }
        let followed = Mutex<[Followed]>([])
        let failures = Mutex<[String]>([])
        let group = DispatchGroup()
        let cpuBefore = (a: replicas[0].cpuSeconds, b: replicas[1].cpuSeconds, postgres: PostgresCPU.seconds(), client: ServedProcess.cpuSeconds(pid: getpid()))
        let started = Date()
        for _ in 0..<runs {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                do {
                    let body = Array(#"{"inputs": {"task": "Major events in the AI agent industry this week", "auto_confirm": true}}"#.utf8)
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
        // Before the replicas stop: their connections' backends are still running.
        let cpu = (
            a: replicas[0].cpuSeconds - cpuBefore.a, b: replicas[1].cpuSeconds - cpuBefore.b, postgres: PostgresCPU.seconds() - cpuBefore.postgres,
            client: ServedProcess.cpuSeconds(pid: getpid()) - cpuBefore.client
        )
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
        func perRun(_ seconds: Double) -> JSONValue { (seconds / Double(runs) * 1000).rounded(places: 1) }
        var loadAverage = [Double](repeating: 0, count: 3)
        _ = getloadavg(&loadAverage, 3)
        return [
            "workload": .string(workload == .served ? "served: loopback fake model (50 ms to first token, 2 ms per token) and search" : "offline: simulated model, \(delay) ms per chunk"),
            "runs_in_flight": .integer(Int64(runs)),
            "followed_on": .string(followOn),
            "events_measured": .integer(Int64(sorted.count)),
            "events_replayed_before_attach": .integer(Int64(all.map(\.events.count).reduce(0, +) - sorted.count)),
            "wall_seconds": wallSeconds.rounded(places: 1),
            "latency_ms": ["p50": percentile(0.5), "p90": percentile(0.9), "p99": percentile(0.99), "max": percentile(1)],
            "target_p99_ms": 50,
            "breakdown_ms": EventTimes.breakdown(
                measured: measured.withLock { $0 }, a: scratch.appendingPathComponent("a/event-times.log"),
                b: scratch.appendingPathComponent("b/event-times.log")),
            "cpu_seconds": [
                "a": cpu.a.rounded(places: 2), "b": cpu.b.rounded(places: 2), "postgres": cpu.postgres.rounded(places: 2),
                "benchmark_process": cpu.client.rounded(places: 2),
            ],
            "cpu_ms_per_run": ["a": perRun(cpu.a), "b": perRun(cpu.b), "postgres": perRun(cpu.postgres)],
            "load_average_after": .array(loadAverage.map { $0.rounded(places: 2) }),
        ]
    }
}

/// CPU seconds used by the throwaway cluster: the postmaster, its children that ended
/// (counted to it once reaped), and the backends still running.
enum PostgresCPU {
    static func seconds() -> Double {
        guard let cluster = try? PostgresCluster.shared(),
            let text = try? String(contentsOfFile: cluster.dataFolder + "/postmaster.pid", encoding: .utf8),
            let line = text.split(separator: "\n").first, let postmaster = Int32(line.trimmingCharacters(in: .whitespaces))
        else { return 0 }
        var total = 0.0
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), let fields = statFields(pid: pid) else { continue }
            // After the command: state, ppid, …; utime, stime, cutime, cstime are fields 14–17.
            if pid == postmaster {
                total += [11, 12, 13, 14].compactMap { Double(fields[$0]) }.reduce(0, +) / ticks
            } else if Int32(fields[1]) == postmaster {
                total += [11, 12].compactMap { Double(fields[$0]) }.reduce(0, +) / ticks
            }
        }
        return total
    }

    private static func statFields(pid: Int32) -> [Substring]? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 14 ? fields : nil
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
