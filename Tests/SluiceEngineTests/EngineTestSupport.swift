import Foundation
import SluiceEngine
import SluiceJSON
import SluicePlan
import SluiceProviders
import SluiceRunLog
import SluiceTesting

/// Paths inside the repository, found from this file's location.
enum Repository {
    static var root: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }
    static var plans: String { root + "/plans" }
    static var corpus: String { root + "/corpus" }
}

/// Builds plans from inline JSON and runs them with fakes.
enum Harness {
    /// A plan from JSON text (validated like any plan file).
    static func plan(_ json: String, path: String = "inline.json", catalog: PlanCatalog = PlanCatalog(directories: [])) throws -> Plan {
        try PlanLoader(catalog: catalog).load(bytes: Array(json.utf8), path: path)
    }

    static func providers(
        model: any ModelProvider = SimulatedModel(configuration: .init(chunkDelay: .zero)),
        search: any SearchProvider = FakeSearchProvider(),
        fetch: any FetchProvider = FakeFetchProvider(pages: [:]),
        documents: any DocumentLoader = FakeDocumentLoader(documents: [:]),
        input: (any InputProvider)? = nil
    ) -> RunEngine.Providers {
        RunEngine.Providers(model: ModelRouter(fallback: model), search: search, fetch: fetch, documents: documents, input: input)
    }

    /// A deterministic configuration: fixed run id, no jitter.
    static func configuration(catalog: PlanCatalog = PlanCatalog(directories: [])) -> RunEngine.Configuration {
        RunEngine.Configuration(catalog: catalog, makeRunID: { "run_test" }, random: { 0.5 })
    }

    /// Runs and returns the outcome with every event.
    static func run(
        _ plan: Plan, inputs: JSONValue = [:], providers: RunEngine.Providers = providers(),
        configuration: RunEngine.Configuration = configuration()
    ) async -> (RunOutcome, [RunEvent]) {
        let sink = RecordingEventSink()
        let outcome = await RunEngine(providers: providers, configuration: configuration).run(plan: plan, inputs: inputs, sinks: [sink])
        return (outcome, sink.events)
    }
}

extension Array where Element == RunEvent {
    func of(_ type: EventType, step: String? = nil) -> [RunEvent] {
        filter { $0.type == type && (step == nil || $0.step == step) }
    }
}
