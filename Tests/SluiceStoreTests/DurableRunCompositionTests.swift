import Foundation
import SluiceDurable
import SluiceEngine
import SluiceJSON
import SluicePlan
import SluiceProviders
import SluiceRunLog
import SluiceStore
import SluiceStorePostgres
import SluiceTesting
import Synchronization
import Testing

/// ``DurableRun``, the one composition the CLI and the server use: a run recorded before it
/// starts, every event stored, a cancel request made through another handle on the store
/// stops it, and its resume asks the model only what had not been answered.
// A run the cancel request fails to stop would wait an hour: the limit turns that into a failure.
@Suite(.timeLimit(.minutes(2))) struct DurableRunCompositionTests {
    static let plan = #"""
        {"name": "pair", "models": {"default": "x:m"},
         "steps": [{"id": "first", "kind": "llm", "prompt": "one"}, {"id": "second", "kind": "llm", "prompt": "two"}]}
        """#

    @Test(arguments: StoreBackend.all) func aComposedRunIsRecordedCancelledThroughTheStoreAndResumed(backend: StoreBackend) async throws {
        let temporary = try await TemporaryStore(backend)
        defer { temporary.remove() }
        // The run's own handle, opened as the CLI and the server open it; `temporary.store` is
        // another process's.
        let opened = try await backend.opened(temporary.location)
        defer { (opened.runs as? PostgresRunStore)?.close() }
        let plan = try StoreHarness.plan(Self.plan)
        let blocking = Mutex(true)
        let model = ScriptedModel { request, _ in
            if request.prompt == "two", blocking.withLock({ $0 }) { try await Task.sleep(for: .seconds(3600)) }
            return "answer to " + request.prompt
        }

        let first = DurableRun(newRunID: "d1", store: opened, cache: CacheSetting())
        try await first.record(plan: PlanIdentity(plan), inputs: [:], options: ["origin": "test"], user: "alice")
        let stored = try #require(try await temporary.store.run(id: "d1"))
        #expect(stored.status == .running)
        #expect(stored.user == "alice")
        #expect(stored.plan == PlanIdentity(name: "pair", path: URL(fileURLWithPath: "inline.json").standardizedFileURL.path, contentHash: ContentHash.hex(of: plan.source.bytes)))

        let view = RecordingEventSink()
        let task = Task { await Self.run(plan, as: first, model: model, view: view) }
        while model.requests.count < 2 { try await Task.sleep(for: .milliseconds(5)) }
        _ = try await temporary.store.requestCancel(id: "d1")
        let cancelled = await task.value
        #expect(cancelled.status == .cancelled)
        #expect(await first.flush() == nil)
        // Everything the view saw is in the store, in order.
        let log = try await temporary.store.events(runID: "d1", after: 0, limit: nil)
        #expect(log.map(\.seq) == view.events.map(\.seq))
        #expect(try await temporary.store.run(id: "d1")?.status == .cancelled)

        blocking.withLock { $0 = false }
        let second = try await DurableRun.resuming(id: "d1", store: opened, cache: CacheSetting())
        #expect(second.runID == "d1")
        let continued = try await temporary.store.events(runID: "d1", after: 0, limit: nil)
        #expect(second.resumeState?.nextSeq == (continued.last?.seq ?? 0) + 1)
        #expect(second.resumeState?.checkpoints.keys.contains("first") == true)
        let resumed = await Self.run(plan, as: second, model: model, view: RecordingEventSink())
        #expect(resumed.status == .completed, "\(String(describing: resumed.failure))")
        #expect(await second.flush() == nil)
        // `first` came from its checkpoint; only the cancelled `two` reached the model again.
        #expect(model.requests.map(\.prompt) == ["one", "two", "two"])
        let whole = try await temporary.store.events(runID: "d1", after: 0, limit: nil)
        #expect(whole.map(\.seq) == Array(1...whole.count))
        #expect(whole.last?.type == .runCompleted)
        #expect(try await temporary.store.run(id: "d1")?.status == .completed)
    }

    /// Runs `plan` the way the CLI does: providers, sinks and resume state from `durable`,
    /// watching the store's cancel flag.
    static func run(_ plan: Plan, as durable: DurableRun, model: any ModelProvider, view: RecordingEventSink) async -> RunOutcome {
        let base = RunEngine.Providers(model: model, search: FakeSearchProvider(), fetch: FakeFetchProvider(pages: [:]), documents: FakeDocumentLoader(documents: [:]))
        let runID = durable.runID
        let engine = RunEngine(providers: durable.providers(base), configuration: RunEngine.Configuration(makeRunID: { runID }, random: { 0.5 }))
        return await durable.watchingCancelRequests(every: .milliseconds(20)) {
            await engine.run(plan: plan, inputs: [:], sinks: durable.sinks([view]), resume: durable.resumeState)
        }
    }
}
