import Foundation
import SluiceEngine
import SluiceJSON
import SluicePlan
import SluiceProviders
import SluiceRunLog
import SluiceTesting
import Testing

/// Prompts are code: every template of every shipped plan (prompts, system prompts, progress
/// messages, report templates, templated values and details) is rendered with sample inputs and
/// the step outputs of a real offline run, and no name it interpolates may be missing or empty.
@Suite struct ShippedPlanPromptTests {
    static let cases: [(plan: String, inputs: JSONValue)] = [
        ("news_report", ["task": "Major events in the AI agent industry this week", "quality_threshold": 10, "max_iterations": 2]),
        ("news_report", ["task": "生成AI Agent领域最近一周的行业重大事件报告", "quality_threshold": 10, "max_iterations": 2]),
        ("research_report", ["task": "How are AI agents evaluated?", "quality_threshold": 10, "max_iterations": 2]),
        ("industry_analysis", ["task": "The AI agent infrastructure market", "quality_threshold": 10, "max_iterations": 2]),
        ("extraction", ["document_path": "samples/contract.md", "task": "Every party and payment term"]),
        ("auto", ["task": "Major events in the AI agent industry this week", "max_iterations": 1, "document_path": "samples/contract.md"]),
        ("examples/competitor_analysis", ["task": "Notion against its competitors in team wikis", "competitors": ["Confluence"], "quality_threshold": 10, "max_iterations": 2]),
    ]

    @Test(arguments: cases)
    func everyTemplateRendersWithEveryNameFilled(plan name: String, inputs: JSONValue) async throws {
        let plan = try ShippedPlanFakes.load(name)
        let providers = try RunEngine.Providers.offline(
            corpusFolder: Repository.corpus, documentsRoot: Repository.root, model: .init(chunkDelay: .zero)
        )
        var configuration = Harness.configuration(catalog: ShippedPlanFakes.catalog)
        configuration.defaultModel = "simulated:offline"
        let (outcome, events) = await Harness.run(plan, inputs: inputs, providers: providers, configuration: configuration)
        try #require(outcome.status == .completed, "\(outcome.failure?.description ?? "")")
        let samples = SampleContext(plan: plan, events: events)
        var checked = 0
        for site in TemplateSite.all(in: plan) {
            let context = try samples.context(for: site)
            let problems = try Self.problems(site.template, in: context)
            #expect(problems.isEmpty, "\(name) \(site.where): \(problems.joined(separator: "; "))")
            let rendered = try site.template.compiled().render(context)
            #expect(!rendered.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(name) \(site.where) renders empty")
            checked += 1
        }
        #expect(checked > 5)
    }

    /// The names a template interpolates that resolve to nothing or to an empty string. Names in
    /// sections count only when rooted in the context (inputs, steps, loop, a map variable);
    /// sections themselves are conditions, so they may be empty.
    static func problems(_ template: TemplateText, in context: JSONValue) throws -> [String] {
        let roots = Set(context.objectValue?.keys ?? [])
        var problems: [String] = []
        for reference in try template.compiled().references where !reference.isSection && !reference.path.isEmpty {
            guard reference.sectionDepth == 0 || roots.contains(reference.path[0]) else { continue }
            var value: JSONValue? = context
            for key in reference.path { value = value?[key] }
            switch value {
            case nil, .null?: problems.append("'\(reference.name)' is missing")
            case .string(let text)? where text.isEmpty: problems.append("'\(reference.name)' is empty")
            default: break
            }
        }
        return problems
    }
}

/// One template of a plan and the steps around it: the step it belongs to, its enclosing maps
/// and loops.
struct TemplateSite {
    var template: TemplateText
    var step: Step?
    var enclosing: [Step]

    var `where`: String { "\(step?.id ?? "output") at \(template.pointer)" }

    static func all(in plan: Plan) -> [TemplateSite] {
        var sites: [TemplateSite] = []
        func visit(_ steps: [Step], enclosing: [Step]) {
            for step in steps {
                var templates: [TemplateText] = [step.message].compactMap { $0 }
                templates += step.details?.templates ?? []
                switch step.kind {
                case .llm(let llm): templates += [llm.prompt] + [llm.system].compactMap { $0 }
                case .gate(let gate): templates.append(gate.prompt)
                case .template(let template): templates.append(template.template)
                case .set(let set): templates += set.value.templates
                case .search(let search): templates += search.queries.templates
                case .fetch(let fetch): templates += fetch.urls.templates
                case .load(let load): templates += load.path.templates
                case .call(let call): templates += call.inputs?.templates ?? []
                case .map(let map): templates += map.result?.templates ?? []
                case .confirm, .loop, .validate: break
                }
                sites += templates.map { TemplateSite(template: $0, step: step, enclosing: enclosing) }
                visit(step.body, enclosing: enclosing + [step])
            }
        }
        visit(plan.steps, enclosing: [])
        sites += plan.output?.value.templates.map { TemplateSite(template: $0, step: nil, enclosing: []) } ?? []
        return sites
    }
}

/// The context a template sees, rebuilt from a run's events: the inputs, every step's output
/// (a map body's from its first item, a loop body's from its last round), the first element of
/// each enclosing map, and for loops round 2 with round 1 as the best and its gate as feedback.
struct SampleContext {
    var plan: Plan
    var events: [RunEvent]

    func context(for site: TemplateSite) throws -> JSONValue {
        var context = JSONObject()
        // run.started carries the inputs as given; the steps see them after defaults.
        var inputs = events.first { $0.type == .runStarted }?.data["inputs"]?.objectValue ?? [:]
        for (name, property) in plan.inputSchema["properties"]?.objectValue ?? [:] where inputs[name] == nil {
            if let value = property["default"] { inputs[name] = value }
        }
        context["inputs"] = .object(inputs)
        var steps = JSONObject()
        for event in events where event.type == .stepCompleted {
            guard let id = event.step, !id.contains("."), (event.item ?? 0) == 0 else { continue }
            steps[id] = ["output": event.data["output"] ?? .null]
        }
        context["steps"] = .object(steps)
        for outer in site.enclosing {
            switch outer.kind {
            case .map(let map):
                let list = try map.over.compiled.evaluate(Self.bindings(context)).toJSON()
                context[map.itemName] = list.arrayValue?.first ?? .null
                context["index"] = 0
            case .loop(let loop):
                let bodyIDs = Set(loop.steps.flatMap { [$0] + $0.descendants }.map(\.id))
                var firstRound = JSONObject()
                for event in events where event.type == .stepCompleted && event.iteration == 1 && (event.item ?? 0) == 0 {
                    if let id = event.step, bodyIDs.contains(id) { firstRound[id] = event.data["output"] ?? .null }
                }
                let gate = events.first { $0.type == .gateEvaluated && $0.iteration == 1 }?.data ?? .null
                context["loop"] = [
                    "iteration": 2, "feedback": gate,
                    "best": ["iteration": 1, "score": gate["score"] ?? .null, "outputs": .object(firstRound)],
                ]
            default:
                break
            }
        }
        return .object(context)
    }

    private static func bindings(_ context: JSONObject) -> [String: CELValue] {
        var bindings: [String: CELValue] = [:]
        for (key, value) in context { bindings[key] = CELValue(json: value) }
        return bindings
    }
}
