import Foundation
import SluiceEngine
import SluiceJSON
import SluicePlan
import SluiceProviders
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
        let executor = DurableRunExecutor(engine: EngineRunExecutor(providers: providers), store: store)
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
}
