import Foundation
import SluiceEngine
import SluiceJSON
import SluicePlan
import SluiceProviders
import SluiceRunLog
import SluiceStore
import SluiceStorePostgres
import SluiceTesting
import Testing

/// The store backends every store test runs against: SQLite always, PostgreSQL when it is
/// installed (a throwaway cluster, see ``PostgresCluster``) and always under CI, where a missing
/// PostgreSQL fails the tests instead of skipping them.
enum StoreBackend: String, CaseIterable, CustomTestStringConvertible {
    case sqlite, postgres

    static var all: [StoreBackend] { PostgresCluster.available ? [.sqlite, .postgres] : [.sqlite] }

    var testDescription: String { rawValue }

    /// A new empty place for a store: a file path in a fresh folder, or a new database's URL.
    func freshLocation() async throws -> String {
        switch self {
        case .sqlite:
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-store-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            return folder + "/runs.sqlite"
        case .postgres:
            return try await PostgresCluster.offThread {
                guard let cluster = try PostgresCluster.shared() else {
                    throw PostgresCluster.Failure(description: "PostgreSQL is not installed")
                }
                return try cluster.createDatabase(prefix: "store")
            }
        }
    }

    /// Opens the store at `location` as process `owner`.
    func open(_ location: String, owner: String = ProcessOwner.current, busyTimeout: TimeInterval = 5) async throws -> TestedStore {
        switch self {
        case .sqlite: try SQLiteRunStore(path: location, busyTimeout: busyTimeout, owner: owner)
        case .postgres: try await PostgresRunStore.open(url: location, owner: owner, leaseTimeout: 30)
        }
    }
}

extension StoreBackend {
    /// Opens the store at `location` the way the CLI and the server do: with what it offers.
    func opened(_ location: String) async throws -> OpenedStore {
        switch self {
        case .sqlite: OpenedStore(try SQLiteRunStore(path: location, busyTimeout: 5))
        case .postgres: OpenedStore(try await PostgresRunStore.open(url: location, leaseTimeout: 30))
        }
    }
}

/// What both backends are: the protocols the server and the CLI use.
typealias TestedStore = any RunStore & ResponseCache & MCPSessionStore

/// A store in a fresh place (a temporary folder, or a new database of the test cluster),
/// removed by the caller with ``remove()``.
struct TemporaryStore {
    let backend: StoreBackend
    /// The SQLite file path, or the database URL.
    let location: String
    let store: TestedStore

    init(_ backend: StoreBackend = .sqlite, busyTimeout: TimeInterval = 5) async throws {
        self.backend = backend
        location = try await backend.freshLocation()
        store = try await backend.open(location, busyTimeout: busyTimeout)
    }

    /// The SQLite file (SQLite only).
    var databasePath: String { location }

    /// Another store on the same file or database, as another process `owner` would open it.
    func opening(owner: String = ProcessOwner.current) async throws -> TestedStore {
        try await backend.open(location, owner: owner)
    }

    func remove() {
        (store as? PostgresRunStore)?.close()
        guard backend == .sqlite else { return }  // the cluster's data goes with the cluster
        let folder = (location as NSString).deletingLastPathComponent
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
        _ plan: Plan, id: String, store: any RunStore, model: any ModelProvider, inputs: JSONValue = [:],
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
