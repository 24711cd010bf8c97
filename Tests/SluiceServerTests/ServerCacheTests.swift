import Foundation
import SluiceEngine
import SluiceJSON
import SluicePlan
import SluiceProviders
import SluiceRunLog
import SluiceServer
import SluiceStore
import SluiceTesting
import Testing

/// The response cache on the server: a plan's `cache` setting, and `sluice serve --cache`
/// (``DurableRunExecutor/cacheAll``) for every run.
@Suite struct ServerCacheTests {
    static let cachedPlan = #"""
        {"name": "cached", "models": {"default": "x:m"}, "cache": {"ttl": "12h"},
         "steps": [{"id": "find", "kind": "search", "query": "agents"},
                   {"id": "write", "kind": "llm", "prompt": "write about agents"}]}
        """#

    static func plan(_ json: String) throws -> Plan {
        try PlanLoader(catalog: PlanCatalog(directories: [])).load(bytes: Array(json.utf8), path: "inline.json")
    }

    /// A store in a temporary folder, fakes that count their calls, and an executor over them.
    struct Fixture {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-server-cache-\(UUID().uuidString)").path
        let store: SQLiteRunStore
        let model = ScriptedModel(answer: "the text")
        let search = FakeSearchProvider(resultsPerQuery: 2)

        init() throws { store = try SQLiteRunStore(home: folder) }

        func executor(cacheAll: CacheSetting? = nil) -> DurableRunExecutor {
            let providers = RunEngine.Providers(
                model: model, search: search, fetch: FakeFetchProvider(pages: [:]), documents: FakeDocumentLoader(documents: [:]))
            return DurableRunExecutor(engine: EngineRunExecutor(providers: providers), store: OpenedStore(store), cacheAll: cacheAll)
        }

        func run(_ plan: Plan, id: String, with executor: DurableRunExecutor) async -> (RunResult, [RunEvent]) {
            let sink = RecordingEventSink()
            let result = await executor.execute(RunRequest(runID: id, plan: ServedPlan(plan), inputs: [:], user: "alice"), sink: sink)
            return (result, sink.events)
        }

        func remove() {
            do { try FileManager.default.removeItem(atPath: folder) } catch { print("could not remove \(folder): \(error)") }
        }
    }

    static func searchCache(_ events: [RunEvent]) -> JSONValue? {
        events.first { $0.type == .stepCompleted && $0.step == "find" }?.data["cache"]
    }

    @Test func aPlanWithTheCacheSettingHitsOnItsSecondRun() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let plan = try Self.plan(Self.cachedPlan)
        #expect(plan.cache == CacheSetting(timeToLive: 12 * 3600))
        let executor = fixture.executor()

        let (first, firstEvents) = await fixture.run(plan, id: "run_c1", with: executor)
        #expect(first.status == .completed)
        #expect(firstEvents.first { $0.type == .modelUsage }?.data["cache"] == "miss")
        #expect(Self.searchCache(firstEvents) == ["hits": 0, "misses": 1])

        let (second, secondEvents) = await fixture.run(plan, id: "run_c2", with: executor)
        #expect(second.status == .completed)
        #expect(fixture.model.requests.count == 1)
        #expect(fixture.search.queries.count == 1)
        #expect(secondEvents.first { $0.type == .modelUsage }?.data["cache"] == "hit")
        #expect(Self.searchCache(secondEvents) == ["hits": 1, "misses": 0])
        // The store keeps the same events the client saw.
        let stored = try await fixture.store.events(runID: "run_c2", after: 0, limit: nil)
        #expect(stored.first { $0.type == .modelUsage }?.data["cache"] == "hit")
    }

    @Test func aPlanWithoutTheSettingIsNotCachedUnlessTheServerCachesEveryRun() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let plan = try Self.plan(Self.cachedPlan.replacingOccurrences(of: #""cache": {"ttl": "12h"},"#, with: ""))
        #expect(plan.cache == nil)

        let plain = fixture.executor()
        _ = await fixture.run(plan, id: "run_p1", with: plain)
        let (_, uncached) = await fixture.run(plan, id: "run_p2", with: plain)
        #expect(fixture.model.requests.count == 2)
        #expect(uncached.first { $0.type == .modelUsage }?.data["cache"] == nil)
        #expect(Self.searchCache(uncached) == nil)

        let cachingAll = fixture.executor(cacheAll: CacheSetting())
        _ = await fixture.run(plan, id: "run_p3", with: cachingAll)
        let (_, cached) = await fixture.run(plan, id: "run_p4", with: cachingAll)
        #expect(fixture.model.requests.count == 3)
        #expect(fixture.search.queries.count == 3)
        #expect(cached.first { $0.type == .modelUsage }?.data["cache"] == "hit")
    }

    @Test func anExpiredEntryIsAskedAgain() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        // A ttl of 0s: every entry has expired by the time it is looked up.
        let plan = try Self.plan(Self.cachedPlan.replacingOccurrences(of: "12h", with: "0s"))
        #expect(plan.cache == CacheSetting(timeToLive: 0))
        let executor = fixture.executor()
        _ = await fixture.run(plan, id: "run_e1", with: executor)
        let (_, second) = await fixture.run(plan, id: "run_e2", with: executor)
        #expect(fixture.model.requests.count == 2)
        #expect(fixture.search.queries.count == 2)
        #expect(second.first { $0.type == .modelUsage }?.data["cache"] == "miss")
        // The server's ttl replaces the plan's.
        let long = fixture.executor(cacheAll: CacheSetting(timeToLive: 3600))
        _ = await fixture.run(plan, id: "run_e3", with: long)
        _ = await fixture.run(plan, id: "run_e4", with: long)
        #expect(fixture.model.requests.count == 3)
    }

    @Test func aMalformedTTLIsAPlanError() throws {
        #expect(throws: (any Error).self) { try Self.plan(Self.cachedPlan.replacingOccurrences(of: "12h", with: "soon")) }
    }
}
