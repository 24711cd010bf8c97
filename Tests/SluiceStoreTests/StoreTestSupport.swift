import Foundation
import SluiceEngine
import SluiceJSON
import SluicePlan
import SluiceProviders
import SluiceStore
import SluiceTesting

/// A store in a fresh temporary folder, removed by the caller with ``remove()``.
struct TemporaryStore {
    let folder: String
    let store: SQLiteRunStore

    init(busyTimeout: TimeInterval = 5) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-store-\(UUID().uuidString)").path
        store = try SQLiteRunStore(home: folder, busyTimeout: busyTimeout)
    }

    var databasePath: String { folder + "/runs.sqlite" }

    func remove() {
        do { try FileManager.default.removeItem(atPath: folder) } catch { print("could not remove \(folder): \(error)") }
    }
}

enum StoreHarness {
    static func plan(_ json: String) throws -> Plan {
        try PlanLoader(catalog: PlanCatalog(directories: [])).load(bytes: Array(json.utf8), path: "inline.json")
    }

    static func newRun(_ id: String, plan: String = "p", user: String = "local", createdAt: Date = Date()) -> NewRun {
        NewRun(id: id, plan: PlanIdentity(name: plan, path: "inline.json", contentHash: "0"), inputs: ["task": "t"], user: user, createdAt: createdAt)
    }

    /// `count` events of run `id` from `firstSeq`, ending with `end` when given.
    static func events(_ id: String, from firstSeq: Int = 1, count: Int, end: EventType? = nil) -> [RunEvent] {
        (0..<count).map { index in
            let seq = firstSeq + index
            if let end, index == count - 1 {
                return RunEvent(seq: seq, runID: id, time: Date(), type: end, data: ["usage": ["cost_usd": 0.5], "result": ["ok": true]])
            }
            return RunEvent(seq: seq, runID: id, time: Date(), type: .stepDelta, step: "s", data: ["text": .string("chunk \(seq)")])
        }
    }

    /// Runs `plan` recorded in `store` (a new run `id`, or the prepared resume), with `model`
    /// behind the run's call ledger; returns the outcome and the events the view saw.
    static func run(
        _ plan: Plan, id: String, store: SQLiteRunStore, model: any ModelProvider, inputs: JSONValue = [:],
        search: any SearchProvider = FakeSearchProvider(), resume: PreparedResume? = nil, caching: ResponseCaching? = nil
    ) async throws -> (RunOutcome, [RunEvent]) {
        if resume == nil { try await store.createRun(newRun(id, plan: plan.name)) }
        let ledger = resume?.ledger ?? RunCallLedger(store: store, runID: id)
        var modelProvider = model
        var searchProvider = search
        if let caching {
            modelProvider = caching.model(modelProvider)
            searchProvider = caching.search(searchProvider)
        }
        let providers = RunEngine.Providers(
            model: ledger.model(modelProvider), search: ledger.search(searchProvider), fetch: FakeFetchProvider(pages: [:]),
            documents: FakeDocumentLoader(documents: [:]))
        let engine = RunEngine(providers: providers, configuration: RunEngine.Configuration(makeRunID: { id }, random: { 0.5 }))
        let view = RecordingEventSink()
        let outcome = await engine.run(plan: plan, inputs: inputs, sinks: [StoreEventSink(store: store), view], resume: resume?.state)
        return (outcome, view.events)
    }
}
