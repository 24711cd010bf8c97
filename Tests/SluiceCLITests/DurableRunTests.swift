import Foundation
import SluiceFakeServices
import Synchronization
import Testing

/// `sluice run` records its run; a SIGKILLed run resumes without paying twice, with one
/// gapless log; `runs cancel` stops a run in another process; processes share one store. The
/// kill and cancel tests run on SQLite and on PostgreSQL (SLUICE_STORE).
@Suite(.serialized) struct DurableRunTests {
    static let runArguments = ["run", "plans/news_report.json", "--offline", "--input", "task=AI agents", "--events", "ndjson"]

    @Test(arguments: CLIStore.all) func aKilledRunResumesWithoutRepeatingCompletedCallsAndItsLogIsGapless(store: CLIStore) async throws {
        let home = DurableHome()
        defer { home.remove() }
        let environment = try await store.environment(home)
        // A straight run, for the number of model calls the plan makes.
        let straight = try await CLIProcess.run(Self.runArguments, environment: environment)
        #expect(straight.status == 0, "\(straight.stderr)")
        let straightCalls = Events(ndjson: straight.stdout).paidModelCalls.count

        let running = try CLIProcess.start(Self.runArguments, environment: environment)
        await running.kill(onceOutputContains: #""type":"step.started","step":"sections""#)
        let seen = Events(ndjson: running.stdout)
        #expect(running.stdout.contains(#""type":"step.started","step":"sections""#), "the run ended before the sections step")
        let runID = try #require(seen.all.first?["run_id"] as? String)
        #expect(seen.all.last?["type"] as? String != "run.completed", "the run ended before it was killed")

        // Every event the process printed had been stored first.
        let storedBeforeResume = Events(ndjson: try await CLIProcess.run(["runs", "events", runID], environment: environment).stdout)
        #expect(storedBeforeResume.all.count >= seen.all.count)
        #expect(storedBeforeResume.all.prefix(seen.all.count).map { $0["type"] as? String } == seen.all.map { $0["type"] as? String })
        let listed = try await CLIProcess.run(["runs", "list", "--json"], environment: environment)
        #expect(listed.stdout.contains(#""run_id":"\#(runID)","plan":"news_report","status":"interrupted""#))

        let resumed = try await CLIProcess.run(["runs", "resume", runID, "--events", "ndjson"], environment: environment)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("resuming run \(runID)"))

        let log = Events(ndjson: try await CLIProcess.run(["runs", "events", runID], environment: environment).stdout)
        #expect(log.all.compactMap { $0["seq"] as? Int } == Array(1...log.all.count))
        #expect(log.types.filter { $0 == "run.started" }.count == 1)
        #expect(log.types.filter { $0 == "run.resumed" }.count == 1)
        #expect(log.types.last == "run.completed")
        // No call that completed before the kill was made again, and the run paid for each call once.
        let resumedAt = try #require(log.all.firstIndex { $0["type"] as? String == "run.resumed" })
        let paidBefore = Events(log.all[..<resumedAt]).paidModelCalls
        let paidAfter = Events(log.all[resumedAt...]).paidModelCalls
        #expect(!paidBefore.isEmpty)
        #expect(Set(paidBefore).isDisjoint(with: Set(paidAfter)))
        // Each call is paid once: a call saved just before the kill but whose model.usage was
        // not yet stored is answered from the store (cache "checkpoint") and not paid again.
        let answeredFromStore = log.all[resumedAt...].filter {
            $0["type"] as? String == "model.usage" && ($0["data"] as? [String: Any])?["cache"] as? String == "checkpoint"
        }
        #expect(paidBefore.count + paidAfter.count <= straightCalls)
        #expect(paidBefore.count + paidAfter.count + answeredFromStore.count >= straightCalls)
        let shown = try await CLIProcess.run(["runs", "show", runID], environment: environment)
        #expect(shown.stdout.contains(#""status": "completed""#))
        #expect(shown.stdout.contains(#""resumes": 1"#))
    }

    /// The run is held at its model call — the fake model answers only when the test opens its
    /// gate, which it does after the run ended — so the cancel always reaches a running run,
    /// however loaded the machine is, and it also stops the call in flight.
    @Test(arguments: CLIStore.all) func runsCancelStopsARunInAnotherProcess(store: CLIStore) async throws {
        let home = DurableHome()
        defer { home.remove() }
        let gate = HeldAnswer()
        defer { gate.open() }
        let model = try FakeHTTPServer { _ in
            gate.wait()
            return FakeOpenAI.stream(["an answer given too late"])
        }
        defer { model.stop() }
        let plan = try ScratchPlan(Self.heldPlan, name: "held")
        defer { plan.remove() }
        let environment = try await store.environment(home).merging(
            ["OPENAI_API_KEY": "sk-fake-openai", "OPENAI_BASE_URL": model.baseURL + "/v1"]) { $1 }
        let running = try CLIProcess.start(["run", plan.path, "--events", "ndjson"], environment: environment)
        #expect(try await running.waitForOutput(containing: #""type":"step.started","step":"ask""#, timeout: 60))
        #expect(try await Self.waitForRequest(to: model, timeout: 60), "the model call was not made")
        let runID = try #require(Events(ndjson: running.stdout).all.first?["run_id"] as? String)
        let cancel = try await CLIProcess.run(["runs", "cancel", runID], environment: environment)
        #expect(cancel.status == 0, "\(cancel.stderr)")
        #expect(try await running.waitForExit(timeout: 30) == 130)
        let events = Events(ndjson: running.stdout)
        #expect(events.types.last == "run.cancelled")
        #expect(!events.types.contains("step.completed"), "the held call was answered")
        #expect(model.requests.count == 1)
        let shown = try await CLIProcess.run(["runs", "show", runID], environment: environment)
        #expect(shown.stdout.contains(#""status": "cancelled""#))
    }

    /// One model step: the run cannot end before the model answers.
    static let heldPlan = """
        {"name": "held", "models": {"default": "openai:gpt-4o-mini"},
         "steps": [{"id": "ask", "kind": "llm", "prompt": "Say something about AI agents"}],
         "output": {"value": "${steps.ask.output}"}}
        """

    static func waitForRequest(to server: FakeHTTPServer, timeout: Double) async throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while server.requests.isEmpty, Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
        return !server.requests.isEmpty
    }

    @Test func processesShareOneStore() async throws {
        let home = DurableHome()
        defer { home.remove() }
        let processes = try (0..<3).map { _ in try CLIProcess.start(Self.runArguments, environment: home.environment) }
        for process in processes {
            let status = try await process.waitForExit(timeout: 120)
            #expect(status == 0, "exit \(status.map(String.init) ?? "none (killed after 120 s)"); stderr: \(process.stderr)")
        }
        let listed = try await CLIProcess.run(["runs", "list", "--json", "--status", "completed"], environment: home.environment)
        #expect(listed.stdout.split(separator: "\n").count == 3)
        for process in processes {
            let runID = try #require(Events(ndjson: process.stdout).all.first?["run_id"] as? String)
            let log = Events(ndjson: try await CLIProcess.run(["runs", "events", runID], environment: home.environment).stdout)
            #expect(log.all.count == Events(ndjson: process.stdout).all.count)
            #expect(log.all.compactMap { $0["seq"] as? Int } == Array(1...log.all.count))
        }
    }

    @Test func aDamagedStoreIsAClearError() async throws {
        let home = DurableHome()
        defer { home.remove() }
        try FileManager.default.createDirectory(atPath: home.path, withIntermediateDirectories: true)
        try Data(repeating: 0x5a, count: 8192).write(to: URL(fileURLWithPath: home.path + "/runs.sqlite"))
        let run = try await CLIProcess.run(Self.runArguments, environment: home.environment)
        #expect(run.status == 2)
        #expect(run.stderr.contains("damaged or not a SQLite database"))
        #expect(run.stderr.contains("--no-store"))
        let list = try await CLIProcess.run(["runs", "list"], environment: home.environment)
        #expect(list.status == 1)
        let unstored = try await CLIProcess.run(Self.runArguments + ["--no-store"], environment: home.environment)
        #expect(unstored.status == 0, "\(unstored.stderr)")
    }

    @Test func cacheClearAndPrune() async throws {
        let home = DurableHome()
        defer { home.remove() }
        let first = try await CLIProcess.run(Self.runArguments + ["--cache"], environment: home.environment)
        #expect(first.status == 0, "\(first.stderr)")
        let second = try await CLIProcess.run(Self.runArguments + ["--cache"], environment: home.environment)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(Events(ndjson: second.stdout).paidModelCalls.isEmpty)
        #expect(second.stdout.contains(#""cache":"hit""#))
        let cleared = try await CLIProcess.run(["cache", "clear"], environment: home.environment)
        #expect(cleared.stdout.hasPrefix("deleted "))
        #expect(!cleared.stdout.hasPrefix("deleted 0 "))
        let pruned = try await CLIProcess.run(["runs", "prune", "--older-than", "0s"], environment: home.environment)
        #expect(pruned.stdout == "deleted 2 runs\n")
        let bad = try await CLIProcess.run(["runs", "prune", "--older-than", "soon"], environment: home.environment)
        #expect(bad.status == 2)
    }
}

/// A temporary `SLUICE_HOME`.
struct DurableHome {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-home-\(UUID().uuidString)").path
    var environment: [String: String] { ["SLUICE_HOME": path] }

    func remove() {
        guard FileManager.default.fileExists(atPath: path) else { return }
        do { try FileManager.default.removeItem(atPath: path) } catch { print("could not remove \(path): \(error)") }
    }
}

/// NDJSON events, parsed.
struct Events {
    let all: [[String: Any]]

    init(ndjson: String) {
        all = ndjson.split(separator: "\n").compactMap { line in
            do {
                return try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            } catch {
                Issue.record("not a JSON event: \(line.prefix(200))")
                return nil
            }
        }
    }

    init(_ events: some Sequence<[String: Any]>) {
        all = Array(events)
    }

    var types: [String] { all.compactMap { $0["type"] as? String } }

    /// Where each model call the run paid for was made (`model.usage` not answered by a store).
    var paidModelCalls: [String] {
        all.filter { $0["type"] as? String == "model.usage" && ($0["data"] as? [String: Any])?["cache"] == nil }
            .map { "\($0["step"] ?? "")|\($0["item"] ?? "")|\($0["iteration"] ?? "")" }
    }
}


/// A fake model's answer held until the test opens the gate; every waiting handler thread is
/// let through then (each one wakes the next).
final class HeldAnswer: Sendable {
    private let opened = Mutex(false)
    private let semaphore = DispatchSemaphore(value: 0)

    func wait() {
        guard !opened.withLock({ $0 }) else { return }
        semaphore.wait()
        semaphore.signal()
    }

    func open() {
        opened.withLock { $0 = true }
        semaphore.signal()
    }
}
