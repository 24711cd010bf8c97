import Foundation
import SluiceFakeServices
import SluiceJSON
import Synchronization

/// The served path measured from outside (`make bench-wire`): the release `sluice` binary
/// serving on a socket, its store on, against the loopback fake OpenAI and Tavily services
/// (`SluiceFakeServices`, 50 ms to the first token and 2 ms per streamed token), driven by
/// clients that parse every message they get:
/// - `mcp`: MCP streamable HTTP, one session per client, log level `info`, `tools/call
///   news_report` with a progress token, at concurrency 50;
/// - `rest_sse`: `POST /v1/plans/news_report/runs` answered as SSE, at the same concurrency;
/// - `cli`: `sluice run news_report --events ndjson` as a process, one at a time.
/// Server CPU and peak RSS come from `/proc`; model and search calls and tokens from the
/// fakes' own counters.
///
/// `SLUICE_BENCH_WIRE_CALLS` (default 200) and `SLUICE_BENCH_WIRE_CONCURRENCY` (default 50)
/// change the load; `SLUICE_BENCH_WIRE_ARGS` adds options to `sluice serve` (e.g. `--no-store`).
/// `SLUICE_BENCH_WIRE_TRACES=1` turns traces on (server and CLI), exported to a loopback OTLP
/// receiver that decodes every span, to measure what tracing costs.
struct WireBenchmark: Benchmark {
    let name = "wire"

    static let task = "Major events in the AI agent industry this week"

    /// The fake model's latency for served runs: 50 ms to the first token, 2 ms per token.
    static let modelTiming = SimulatedServices.Timing(firstToken: .milliseconds(50), perToken: .milliseconds(2))

    /// This process's environment for a `sluice` child: no SLUICE_ settings, keys or base
    /// URLs of its own, and the fakes' keys and base URLs when `services` is given.
    static func serverEnvironment(_ environment: [String: String], services: SimulatedServices?) -> [String: String] {
        var result = environment.filter { name, _ in !name.hasPrefix("SLUICE_") && !name.hasSuffix("_API_KEY") && !name.hasSuffix("_BASE_URL") }
        if let services { result.merge(services.environment) { $1 } }
        return result
    }

    func run(_ context: BenchmarkContext) throws -> JSONValue {
        let environment = ProcessInfo.processInfo.environment
        let calls = environment["SLUICE_BENCH_WIRE_CALLS"].flatMap(Int.init) ?? 200
        let concurrency = environment["SLUICE_BENCH_WIRE_CONCURRENCY"].flatMap(Int.init) ?? 50
        let extra = environment["SLUICE_BENCH_WIRE_ARGS"]?.split(separator: " ").map(String.init) ?? []
        let services = try SimulatedServices(timing: Self.modelTiming)
        defer { services.stop() }
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-wire-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        let executable = try Self.sluiceExecutable()
        var serverEnvironment = Self.serverEnvironment(environment, services: services)
        serverEnvironment["SLUICE_HOME"] = home.appendingPathComponent(".sluice").path
        let traced = environment["SLUICE_BENCH_WIRE_TRACES"] == "1"
        let receiver = traced ? try OTLPTraceReceiver() : nil
        defer { receiver?.stop() }
        if let receiver { serverEnvironment["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.endpoint }
        let plans = BenchmarkFiles.repository.appendingPathComponent("plans").path

        let server = try ServedProcess(
            executable: executable,
            arguments: ["serve", "--port", "0", "--plans", plans, "--runs-per-user", String(concurrency * 2), "--sessions-per-user", String(concurrency * 2)] + extra,
            environment: serverEnvironment, directory: home)
        let mcp = try Self.phase(server: server, services: services, calls: calls, concurrency: concurrency) { port in try MCPWireClient(port: port) }
        let rest = try Self.phase(server: server, services: services, calls: calls, concurrency: concurrency) { port in RESTWireClient(port: port) }
        server.stop()
        let cli = try Self.cliRuns(executable: executable, environment: serverEnvironment, plans: plans, directory: home, runs: 5)
        return [
            "load": ["calls": .integer(Int64(calls)), "concurrency": .integer(Int64(concurrency)), "serve_options": .array(extra.map { .string($0) })],
            "traces": receiver.map { ["spans_received": .integer(Int64($0.spans.count))] } ?? .null,
            "mcp_streamable_http": mcp,
            "rest_sse": rest,
            "cli": cli,
        ]
    }

    /// The `sluice` built beside this benchmark (same configuration).
    static func sluiceExecutable() throws -> URL {
        let url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("sluice")
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw BenchmarkFailure("no sluice executable at \(url.path): build it first (make bench-wire does)")
        }
        return url
    }

    /// `calls` reports through clients made by `makeClient`, `concurrency` at a time.
    static func phase(
        server: ServedProcess, services: SimulatedServices, calls: Int, concurrency: Int, makeClient: @escaping @Sendable (Int) throws -> any WireClient
    ) throws -> JSONValue {
        let next = Atomic<Int>(0)
        let results = Mutex<[CallResult]>([])
        let failures = Mutex<[String]>([])
        let servedBefore = (model: services.modelBehaviour.served, searches: services.searchCalls)
        let cpuBefore = server.cpuSeconds
        let started = ContinuousClock.now
        let group = DispatchGroup()
        for _ in 0..<concurrency {
            group.enter()
            let port = server.port
            Thread.detachNewThread {
                defer { group.leave() }
                do {
                    let client = try makeClient(port)
                    while true {
                        let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
                        guard index < calls else { return }
                        let result = try client.report(index: index)
                        results.withLock { $0.append(result) }
                    }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
        }
        group.wait()
        let seconds = (ContinuousClock.now - started).seconds
        let cpu = server.cpuSeconds - cpuBefore
        let served = (model: services.modelBehaviour.served, searches: services.searchCalls)
        let done = results.withLock { $0 }
        if let failure = failures.withLock({ $0.first }) { throw BenchmarkFailure("\(failures.withLock { $0.count }) clients failed; first: \(failure)") }
        guard !done.isEmpty else { throw BenchmarkFailure("no call completed") }
        let latencies = done.map(\.seconds).sorted()
        func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count - 1) * p))] * 1000 }
        let count = Double(done.count)
        func perReport(_ value: Int) -> JSONValue { .double((Double(value) / count * 10).rounded() / 10) }
        return [
            "completed": .integer(Int64(done.count)),
            "failed_reports": .integer(Int64(done.filter { !$0.succeeded }.count)),
            "calls_per_s": .double((count / seconds * 100).rounded() / 100),
            "p50_ms": .double(percentile(0.5).rounded()),
            "p99_ms": .double(percentile(0.99).rounded()),
            "server_cpu_ms_per_call": .double((cpu / count * 1000 * 10).rounded() / 10),
            "server_peak_rss_mb": .double((server.peakRSSMegabytes * 10).rounded() / 10),
            "messages_per_call": perReport(done.map(\.messages).reduce(0, +)),
            "notifications_per_call": perReport(done.map(\.notifications).reduce(0, +)),
            "model_calls_per_report": perReport(served.model.calls - servedBefore.model.calls),
            "search_calls_per_report": perReport(served.searches - servedBefore.searches),
            "prompt_tokens_per_report": perReport(served.model.inputTokens - servedBefore.model.inputTokens),
            "completion_tokens_per_report": perReport(served.model.outputTokens - servedBefore.model.outputTokens),
        ]
    }

    /// `sluice run` as a process: spawn to first NDJSON event (cold start) and to exit.
    static func cliRuns(executable: URL, environment: [String: String], plans: String, directory: URL, runs: Int) throws -> JSONValue {
        var firstEvent: [Double] = []
        var total: [Double] = []
        for _ in 0..<runs {
            let process = Process()
            process.executableURL = executable
            process.arguments = ["run", plans + "/news_report.json", "--events", "ndjson", "--input", "task=\(task)", "--input", "auto_confirm=true"]
            process.environment = environment
            process.currentDirectoryURL = directory
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            let started = ContinuousClock.now
            try process.run()
            var first: Double?
            var lines = 0
            var pending = ""
            while true {
                let data = output.fileHandleForReading.availableData
                if data.isEmpty { break }
                if first == nil { first = (ContinuousClock.now - started).seconds }
                pending += String(decoding: data, as: UTF8.self)
                while let newline = pending.firstIndex(of: "\n") {
                    let line = pending[..<newline]
                    pending = String(pending[pending.index(after: newline)...])
                    guard (try? JSONParser.parse(Array(line.utf8))) != nil else { throw BenchmarkFailure("sluice run printed a line that is not JSON: \(line.prefix(200))") }
                    lines += 1
                }
            }
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw BenchmarkFailure("sluice run exited \(process.terminationStatus)") }
            firstEvent.append(first ?? 0)
            total.append((ContinuousClock.now - started).seconds)
        }
        firstEvent.sort()
        total.sort()
        return [
            "runs": .integer(Int64(runs)),
            "cold_start_to_first_event_ms_p50": .double((firstEvent[firstEvent.count / 2] * 10000).rounded() / 10),
            "cold_start_to_first_event_ms_min": .double((firstEvent[0] * 10000).rounded() / 10),
            "run_ms_p50": .double((total[total.count / 2] * 1000).rounded()),
        ]
    }
}

/// One report as a client saw it.
struct CallResult: Sendable {
    var seconds: Double
    var succeeded: Bool
    /// Every message received for the call (SSE events with data).
    var messages: Int
    /// Of those, notifications (MCP) or status updates (seed SSE).
    var notifications: Int
}

/// A client asking for news reports, one at a time.
protocol WireClient: Sendable {
    func report(index: Int) throws -> CallResult
}

/// An MCP streamable-HTTP client: its own session, log level `info`, calls with progress.
struct MCPWireClient: WireClient {
    let port: Int
    let session: String

    init(port: Int) throws {
        self.port = port
        let initialize: JSONValue = [
            "jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": ["protocolVersion": "2025-11-25", "capabilities": .object(JSONObject()), "clientInfo": ["name": "wire-bench", "version": "1"]],
        ]
        let answer = try WireExchange.send(port: port, method: "POST", path: "/mcp", headers: Self.headers(session: nil), body: initialize.jsonBytes)
        guard answer.status == 200, let session = answer.headers["mcp-session-id"] else {
            throw BenchmarkFailure("initialize answered \(answer.status): \(String(decoding: answer.body, as: UTF8.self).prefix(300))")
        }
        self.session = session
        _ = try WireExchange.send(port: port, method: "POST", path: "/mcp", headers: Self.headers(session: session), body: (["jsonrpc": "2.0", "method": "notifications/initialized"] as JSONValue).jsonBytes)
        let level: JSONValue = ["jsonrpc": "2.0", "id": 1, "method": "logging/setLevel", "params": ["level": "info"]]
        _ = try WireExchange.send(port: port, method: "POST", path: "/mcp", headers: Self.headers(session: session), body: level.jsonBytes)
    }

    static func headers(session: String?) -> [String: String] {
        var headers = ["Content-Type": "application/json", "Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-11-25"]
        if let session { headers["MCP-Session-Id"] = session }
        return headers
    }

    func report(index: Int) throws -> CallResult {
        let id = index + 10
        let call: JSONValue = [
            "jsonrpc": "2.0", "id": .integer(Int64(id)), "method": "tools/call",
            "params": [
                "name": "news_report", "arguments": ["task": .string(WireBenchmark.task), "auto_confirm": true],
                "_meta": ["progressToken": .string("p\(index)")],
            ],
        ]
        let started = ContinuousClock.now
        let answer = try WireExchange.send(port: port, method: "POST", path: "/mcp", headers: Self.headers(session: session), body: call.jsonBytes)
        let seconds = (ContinuousClock.now - started).seconds
        guard answer.status == 200 else { throw BenchmarkFailure("tools/call answered \(answer.status)") }
        var messages = 0
        var notifications = 0
        var succeeded = false
        for event in answer.events where !event.data.isEmpty {
            let message = try JSONParser.parse(Array(event.data.utf8))
            messages += 1
            if message["method"] != nil {
                notifications += 1
            } else if message["id"]?.integerValue == Int64(id) {
                succeeded = message["result"] != nil && message["result"]?["isError"] != .bool(true)
            }
        }
        return CallResult(seconds: seconds, succeeded: succeeded, messages: messages, notifications: notifications)
    }
}

/// A REST client: each report a `POST /v1/plans/news_report/runs` answered as seed-000 SSE.
struct RESTWireClient: WireClient {
    let port: Int

    func report(index: Int) throws -> CallResult {
        let body: JSONValue = ["task": .string(WireBenchmark.task), "auto_confirm": true]
        let started = ContinuousClock.now
        let answer = try WireExchange.send(
            port: port, method: "POST", path: "/v1/plans/news_report/runs",
            headers: ["Content-Type": "application/json", "Accept": "text/event-stream"], body: body.jsonBytes)
        let seconds = (ContinuousClock.now - started).seconds
        guard answer.status == 200 else { throw BenchmarkFailure("POST runs answered \(answer.status)") }
        var messages = 0
        var updates = 0
        var succeeded = false
        for event in answer.events where !event.data.isEmpty {
            _ = try JSONParser.parse(Array(event.data.utf8))
            messages += 1
            if event.event == "status_update" { updates += 1 }
            // SLUICE_BENCH_WIRE_BREAKDOWN=1: the first report's prompt tokens per model call, on stderr.
            if index == 0, ProcessInfo.processInfo.environment["SLUICE_BENCH_WIRE_BREAKDOWN"] != nil,
                let payload = try? JSONParser.parse(Array(event.data.utf8)), payload["type"] == "model.usage"
            {
                let place = [payload["step"], payload["item"], payload["iteration"]].compactMap { $0?.serialized() }.joined(separator: " ")
                FileHandle.standardError.write(Data("prompt tokens \(payload["input_tokens"]?.serialized() ?? "?") \(place)\n".utf8))
            }
            if event.event == "final_result" { succeeded = true }
        }
        return CallResult(seconds: seconds, succeeded: succeeded, messages: messages, notifications: updates)
    }
}
