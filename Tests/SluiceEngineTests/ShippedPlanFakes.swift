import Foundation
import SluiceEngine
import SluiceJSON
import SluicePlan
import SluiceProviders
import SluiceRunLog
import SluiceTesting
import Synchronization

/// In-process fakes that play a real model and real search for the shipped plans: structured
/// answers generated from each step's schema, judge scores from a script, section text that
/// cites listed sources and sources that do not exist, and search results with known urls.
enum ShippedPlanFakes {
    static let catalog = PlanCatalog(directories: [Repository.plans])

    /// A shipped plan by name (`news_report`), or an example by path (`examples/competitor_analysis`).
    static func load(_ name: String) throws -> Plan {
        try PlanLoader(catalog: catalog).load(path: Repository.plans + "/\(name).json")
    }

    /// Text a writer step answers: two real citations and two that name no source.
    static let sectionText = "First finding [1]. Second finding [2][1]. An invented claim [42]. A zero [0]. See the [table](https://example.com/x)."

    /// What the fake model answers for particular steps, by step id (ids of called plans are
    /// matched by their last component).
    typealias Overrides = [String: @Sendable (ModelRequest) -> JSONValue]

    /// A model whose judge gives `scores[iteration - 1]` on every dimension (the last score
    /// once the list runs out), whose writers cite sources as ``sectionText`` does, and whose
    /// other structured answers come from the step's schema unless `overrides` says otherwise.
    static func model(judgeScores: [Double], overrides: Overrides = [:]) -> ScriptedModel {
        ScriptedModel { request, _ in
            let step = request.metadata.stepID.map { String($0.split(separator: ".").last ?? Substring($0)) } ?? ""
            if request.metadata.purpose == .judge, let schema = request.schema {
                let iteration = max(1, request.metadata.iteration ?? 1)
                let score = judgeScores.isEmpty ? 5 : judgeScores[min(iteration, judgeScores.count) - 1]
                var scores = JSONObject()
                for name in schema["properties"]?["scores"]?["properties"]?.objectValue?.keys ?? [] {
                    scores[name] = .double(score)
                }
                return JSONValue.object(["scores": .object(scores), "feedback": .string("Round \(iteration): the outline's second section lacks sources.")]).serialized()
            }
            if let override = overrides[step] { return override(request).serialized() }
            guard let schema = request.schema else { return sectionText }
            return SchemaInstanceGenerator(topic: "AI agents").instance(of: schema).serialized()
        }
    }

    /// Search answering two results per query, with urls derived from the query; it records
    /// every url it returned.
    final class Search: SearchProvider {
        private let returned = Mutex<[String]>([])
        private let queries = Mutex<[String]>([])

        var urls: Set<String> { Set(returned.withLock { $0 }) }
        var texts: [String] { queries.withLock { $0 } }

        func search(_ query: SearchQuery) async throws -> [SearchResult] {
            queries.withLock { $0.append(query.text) }
            let slug = query.text.lowercased().map { $0.isLetter || $0.isNumber ? String($0) : "-" }.joined()
            let results = (1...2).map { index in
                SearchResult(
                    title: "\(query.text) (\(index))", url: "https://news.example.com/\(slug)/\(index)",
                    snippet: "What \(query.text) found.", published: "2026-11-20", provider: "fake"
                )
            }
            returned.withLock { $0.append(contentsOf: results.map(\.url)) }
            return results
        }
    }

    /// Runs a plan with the fakes; the default model is a name, as SLUICE_MODEL would give.
    static func run(
        _ plan: Plan, inputs: JSONValue, model: any ModelProvider, search: any SearchProvider = Search(),
        fetch: any FetchProvider = FakeFetchProvider(pages: [:]),
        documents: any DocumentLoader = FakeDocumentLoader(documents: [:])
    ) async -> (RunOutcome, [RunEvent]) {
        var configuration = Harness.configuration(catalog: catalog)
        configuration.defaultModel = "fake:writer"
        let providers = Harness.providers(model: model, search: search, fetch: fetch, documents: documents)
        return await Harness.run(plan, inputs: inputs, providers: providers, configuration: configuration)
    }

    /// Every `[n]` in a Markdown text, links' text aside (`[title](url)` is not a citation).
    static func citations(in text: String) -> [Int] {
        let scalars = Array(text.unicodeScalars)
        var numbers: [Int] = []
        var index = 0
        while index < scalars.count {
            defer { index += 1 }
            guard scalars[index] == "[" else { continue }
            var end = index + 1
            var digits = ""
            while end < scalars.count, ("0"..."9").contains(scalars[end]) {
                digits.unicodeScalars.append(scalars[end])
                end += 1
            }
            let isLink = end + 1 < scalars.count && scalars[end + 1] == "("
            if !digits.isEmpty, end < scalars.count, scalars[end] == "]", !isLink, let n = Int(digits) { numbers.append(n) }
        }
        return numbers
    }

    /// The outputs of every completed step execution, by step id, in event order.
    static func outputs(_ events: [RunEvent], of step: String) -> [(item: Int?, iteration: Int?, output: JSONValue)] {
        events.of(.stepCompleted, step: step).map { ($0.item, $0.iteration, $0.data["output"] ?? .null) }
    }
}
