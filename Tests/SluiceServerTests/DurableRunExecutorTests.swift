import Foundation
import SluiceEngine
import SluiceJSON
import SluicePlan
import SluiceProviders
import SluiceRunLog
import SluiceServer
import SluiceStore
import SluiceTesting
import Synchronization
import Testing

/// Server runs recorded in the durable store: the run with its user, and every event stored
/// before the transport's sink received it.
@Suite struct DurableRunExecutorTests {
    /// Notes, for each event, whether the store already had it.
    final class CheckingSink: EventSink {
        let store: SQLiteRunStore
        let seen = Mutex<[(seq: Int, stored: Bool)]>([])

        init(store: SQLiteRunStore) { self.store = store }

        func receive(_ event: RunEvent) async {
            do {
                let stored = try await store.events(runID: event.runID, after: event.seq - 1, limit: 1).first?.seq == event.seq
                seen.withLock { $0.append((event.seq, stored)) }
            } catch {
                Issue.record("reading the store failed: \(error)")
            }
        }
    }

    @Test func aServerRunIsRecordedAndStoredBeforeItIsSent() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-server-store-\(UUID().uuidString)").path
        defer {
            do { try FileManager.default.removeItem(atPath: folder) } catch { print("could not remove \(folder): \(error)") }
        }
        let store = try SQLiteRunStore(home: folder)
        let plan = try PlanLoader(catalog: PlanCatalog(directories: [])).load(path: TestPaths.fixturePlans + "/echo.json")
        let providers = RunEngine.Providers(
            model: ScriptedModel(answer: "unused"), search: FakeSearchProvider(), fetch: FakeFetchProvider(pages: [:]),
            documents: FakeDocumentLoader(documents: [:]))
        let executor = DurableRunExecutor(engine: EngineRunExecutor(providers: providers), store: OpenedStore(store))
        let sink = CheckingSink(store: store)
        let result = await executor.execute(
            RunRequest(runID: "run_server_1", plan: ServedPlan(plan), inputs: ["text": "hello", "times": 2], user: "alice"), sink: sink)
        #expect(result.status == .completed)
        let seen = sink.seen.withLock { $0 }
        #expect(seen.map(\.seq) == Array(1...seen.count))
        let sentBeforeStored = seen.filter { !$0.stored }.map(\.seq)
        #expect(sentBeforeStored == [])
        let run = try #require(try await store.run(id: "run_server_1"))
        #expect(run.user == "alice")
        #expect(run.status == .completed)
        #expect(run.result == ["text": "hello", "times": 2])
        #expect(run.lastSeq == seen.count)
    }

    @Test func afterARestartARunsEventsAreReplayedFromTheStore() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-server-restart-\(UUID().uuidString)").path
        defer {
            do { try FileManager.default.removeItem(atPath: folder) } catch { print("could not remove \(folder): \(error)") }
        }
        let store = try SQLiteRunStore(home: folder)
        let executor = DurableRunExecutor(engine: try ServerHarness.engineExecutor(), store: OpenedStore(store))
        // The first server runs it to the end, then stops.
        let runID = try await ServerHarness.withServer(executor: executor) { port, server in
            let started = try await HTTP.request(port, "POST", "/v1/plans/echo/runs", json: ["text": "hi"])
            #expect(started.status == 202)
            let runID = try #require(started.json?["run_id"]?.stringValue)
            let record = try #require(server.mcp.runs.registry.run(id: runID))
            _ = await record.waitForResult()
            return runID
        }
        let stored = try #require(try await store.run(id: runID))
        #expect(stored.status == .completed)
        // A new server (nothing in memory) answers from the store.
        try await ServerHarness.withServer(executor: executor) { port, _ in
            let summary = try await HTTP.request(port, "GET", "/v1/runs/\(runID)")
            #expect(summary.status == 200)
            #expect(summary.json?["status"] == "completed")
            #expect(summary.json?["result"] == ["text": "hi", "times": 1])
            let (head, reader, _) = try await HTTP.sse(port, "GET", "/v1/runs/\(runID)/events", headers: ["Last-Event-ID": "2"])
            #expect(head.status == 200)
            let rest = await HTTP.drain(reader)
            #expect(rest.map(\.id) == (3...stored.lastSeq).map(String.init))
            #expect(rest.last?.event == "final_result")
            #expect(try await HTTP.request(port, "GET", "/v1/runs/run_unknown/events").status == 404)
        }
    }

    @Test func aRunAStoppedServerLeftInterruptedIsContinued() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-server-resume-\(UUID().uuidString)").path
        defer {
            do { try FileManager.default.removeItem(atPath: folder) } catch { print("could not remove \(folder): \(error)") }
        }
        let store = try SQLiteRunStore(home: folder)
        // What a killed server leaves: its run started, owned by a process that is gone.
        let dead = try SQLiteRunStore(path: folder + "/runs.sqlite", owner: "999999999@\(ProcessInfo.processInfo.hostName)")
        let library = try ServerHarness.library()
        let plan = try #require(library.plan(named: "echo")?.plan)
        try await dead.createRun(NewRun(
            id: "run_left", plan: PlanIdentity(name: "echo", path: plan.source.path, contentHash: "0"), inputs: ["text": "again", "times": 1],
            options: ["origin": "server"], user: "alice"))
        try await dead.append([RunEvent(seq: 1, runID: "run_left", time: Date(), type: .runStarted, data: ["plan": "echo"])])
        let messages = Mutex<[String]>([])
        let executor = DurableRunExecutor(engine: try ServerHarness.engineExecutor(), store: OpenedStore(store))
        await executor.resumeInterrupted(library: library) { message in messages.withLock { $0.append(message) } }
        let run = try #require(try await store.run(id: "run_left"))
        #expect(run.status == .completed, "\(messages.withLock { $0 })")
        #expect(run.result == ["text": "again", "times": 1])
        let log = try await store.events(runID: "run_left", after: 0, limit: nil)
        #expect(log.map(\.seq) == Array(1...log.count))
        #expect(log.dropFirst().first?.type == .runResumed)
    }
}
