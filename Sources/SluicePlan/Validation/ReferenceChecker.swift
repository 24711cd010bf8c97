import SluiceJSON

/// Checks that every name an expression or template uses exists at that point of the plan.
///
/// Walks the steps in run order with a scope: a step sees the plan's inputs, the steps
/// before it (in its own body and in the bodies that enclose it), the map item inside a
/// map, and the loop state inside a loop. Step ids must be unique in the whole plan.
struct ReferenceChecker {
    private let plan: Plan
    let report: (PlanDiagnostic.Code, String, JSONPointer, Int?) -> Void
    /// Every step by id (first definition), to tell "unknown" from "not visible here".
    private var allSteps: [String: Step] = [:]
    /// The enclosing map or loop of each nested step.
    private var parents: [String: Step] = [:]
    private let inputNames: Set<String>?
    /// Inputs that are neither required nor defaulted: a run may leave them out, and then
    /// reading one fails (CEL: no such key) or renders nothing (a template).
    private let optionalInputs: Set<String>
    private let inputType: CELType
    /// Ids of steps the document has but the model lacks (their own errors were reported):
    /// references to them are not reported again.
    private let undecodedIDs: Set<String>
    /// The output type of the plan a `call` names.
    let calledPlanOutput: (String) -> CELType
    /// Each checked step's output type, by id (the first definition's), as the walk finds them.
    let outputTypes = OutputTypes()

    final class OutputTypes {
        var byID: [String: CELType] = [:]
    }

    init(
        plan: Plan, calledPlanOutput: @escaping (String) -> CELType = { _ in .dyn },
        report: @escaping (PlanDiagnostic.Code, String, JSONPointer, Int?) -> Void
    ) {
        self.plan = plan
        self.report = report
        self.calledPlanOutput = calledPlanOutput
        let decoded = Set(plan.allSteps.map(\.id))
        self.undecodedIDs = Self.stepIDs(in: plan.source.document.value["steps"]).subtracting(decoded)
        let properties = plan.inputSchema["properties"]?.objectValue
        self.inputNames = properties.map { Set($0.keys) }
        let required = Set((plan.inputSchema["required"]?.arrayValue ?? []).compactMap(\.stringValue))
        self.optionalInputs = Set(
            (properties ?? JSONObject()).filter { name, schema in !required.contains(name) && schema["default"] == nil }.map(\.key))
        self.inputType = CELType(jsonSchema: plan.inputSchema)
    }

    /// What is visible at one point of the plan.
    ///
    /// Extended in place as steps become visible, never rebuilt: a plan of N chained steps is
    /// checked in O(N), not O(N²). (Keep it uniquely referenced while it grows: a live copy
    /// makes every insert copy the whole set.)
    struct Scope {
        var steps: Set<String> = []
        /// The static type of `steps`' member for each visible step, kept with `steps`.
        var stepTypes: [String: CELType] = [:]
        var itemNames: Set<String> = []
        /// The static types of the map variables in scope (`item` or its `as` name, `index`).
        var itemTypes: [String: CELType] = [:]
        var inLoop = false
        /// The type of `loop` inside a loop body: `best` and `feedback` typed by the body.
        var loopType: CELType = .dyn
        /// The step whose fields are being checked, to name self-references.
        var current: String?
        /// Optional inputs that a `when` of this step or an enclosing one tests with `has(…)`.
        var testedInputs: Set<String> = []
    }

    mutating func check() {
        indexSteps(plan.steps, parent: nil)
        var scope = Scope()
        checkSteps(plan.steps, scope: &scope)
        let finalScope = scope
        if case .perItem(let items, _) = plan.billing { checkExpression(items, in: finalScope) }
        if let output = plan.output {
            checkValue(output.value, in: finalScope)
            checkOutputTypes(output.value, schema: output.schema, in: finalScope)
        }
    }

    private mutating func indexSteps(_ steps: [Step], parent: Step?) {
        for step in steps {
            if let first = allSteps[step.id] {
                let firstAt = plan.source.location(of: first.pointer.appending("id")).map { " (first defined at \($0))" }
                report(.duplicateID, "duplicate step id '\(step.id)'\(firstAt ?? "")", step.pointer.appending("id"), nil)
            } else {
                allSteps[step.id] = step
                if let parent { parents[step.id] = parent }
            }
            indexSteps(step.body, parent: step)
        }
    }

    /// Checks `steps` in order; on return `scope.steps` also holds what they make visible after them.
    private func checkSteps(_ steps: [Step], scope: inout Scope) {
        let outer = scope.current
        for step in steps {
            scope.current = step.id
            let tested = scope.testedInputs
            if let when = step.when { scope.testedInputs.formUnion(Self.testedInputs(in: when)) }
            checkStep(step, in: scope)
            scope.current = outer
            scope.testedInputs = tested
            makeVisible(step, in: &scope)
            if case .loop = step.kind {
                // After a loop, its body's steps refer to the best round.
                for inner in step.descendants where parents[inner.id]?.id == step.id { makeVisible(inner, in: &scope) }
            }
        }
    }

    private func makeVisible(_ step: Step, in scope: inout Scope) {
        guard scope.steps.insert(step.id).inserted else { return }
        scope.stepTypes[step.id] = .object(["output": outputTypes.byID[step.id] ?? .dyn], closed: true)
    }

    /// Checks each setting the step has per its declaration, the body in its own scope, and
    /// records the step's output type.
    private func checkStep(_ step: Step, in scope: Scope) {
        let declaration = step.declaration
        let kind = type(of: declaration)
        for setting in Step.commonSettings { checkSetting(setting, of: step, in: scope) }
        // A kind may redeclare a common setting (confirm's `details`): it is checked once.
        for setting in kind.settings where !setting.seesBody && !Step.commonSettingNames.contains(setting.name) {
            checkSetting(setting, of: step, in: scope)
        }
        if let model = step.settings.string("model") { checkModel(model, of: step) }
        var body = scope
        if kind.hasBody {
            switch step.kind {
            case .map(let map):
                body.itemNames.formUnion([map.itemName, "index"])
                let overType = map.over.compiled.resultType(environment(for: scope))
                if case .list(let element) = overType { body.itemTypes[map.itemName] = element }
                body.itemTypes["index"] = .int
            default:
                body.inLoop = true
                body.loopType = loopType(of: step)
            }
            checkSteps(step.body, scope: &body)
            for setting in kind.settings where setting.seesBody { checkSetting(setting, of: step, in: body) }
        }
        let bodyScope = body
        let typing = OutputTyping(
            body: step.body.map { ($0.id, outputTypes.byID[$0.id] ?? .dyn) },
            valueInBody: { valueType($0, in: bodyScope) },
            calledPlanOutput: calledPlanOutput)
        if outputTypes.byID[step.id] == nil || allSteps[step.id] === step {
            outputTypes.byID[step.id] = declaration.outputType(typing)
        }
    }

    /// One setting's template, expression or value, checked against the setting's type; a
    /// literal number against the bounds the kind declares for it.
    private func checkSetting(_ setting: StepSetting, of step: Step, in scope: Scope) {
        guard let decoded = step.settings[setting.name] else { return }
        let literal: Double? =
            switch decoded {
            case .literal(let json): json.doubleValue
            case .number(.literal(let number)): number
            default: nil
            }
        if let literal, let bounds = step.declaration.bounds(of: setting), let problem = bounds.violation(by: literal) {
            report(.range, "'\(setting.name)' \(problem)", step.pointer.appending(setting.name), nil)
        }
        switch decoded {
        case .template(let template):
            checkTemplate(template, in: scope)
        case .expression(let expression), .number(.expression(let expression)):
            checkExpression(expression, in: scope, expecting: setting.type, field: setting.name)
        case .value(let value):
            checkValue(value, in: scope)
            // A whole-value "${…}" gives the setting its value as it is: it must be of the setting's type.
            if case .expression(let expression) = value, setting.type != .any {
                checkType(of: expression, in: scope, expecting: setting.type, field: setting.name)
            }
        case .literal, .number(.literal):
            break
        }
    }

    /// A step's `model` is a name from the plan's `models` or a literal `provider:model`.
    private func checkModel(_ model: String, of step: Step) {
        guard !model.contains(":"), plan.models[model] == nil else { return }
        let known = plan.models.keys.sorted().joined(separator: ", ")
        report(
            .reference,
            "unknown model '\(model)' (the plan's models are: \(known.isEmpty ? "none" : known); or write provider:model)",
            step.pointer.appending("model"), nil)
    }

    private func checkValue(_ value: PlanValue, in scope: Scope) {
        value.expressions.forEach { checkExpression($0, in: scope) }
        value.templates.forEach { checkTemplate($0, in: scope) }
    }

    private func checkExpression(_ expression: PlanExpression, in scope: Scope) {
        var reported = Set<Int>()
        let references = expression.compiled.references
        let tested = scope.testedInputs.union(Self.testedInputs(in: references))
        for reference in references where !Self.celTypeNames.contains(reference.path[0]) {
            if let problem = problem(with: reference.path, in: scope, insideSection: false)
                ?? optionalRead(reference, tested: tested)
            {
                reported.insert(reference.range.lowerBound)
                report(.reference, problem, expression.pointer, expression.offsetInString + reference.range.lowerBound)
            }
        }
        // Names were checked above with plan-specific messages; the type checker adds the rest.
        for error in expression.compiled.check(environment(for: scope))
        where !error.message.hasPrefix("undeclared reference") && !reported.contains(error.offset ?? -1) {
            report(.expression, error.message, expression.pointer, expression.offsetInString + (error.offset ?? 0))
        }
    }

    /// Checks `expression`, then that its type fits the setting it is written in.
    /// What a setting's expression must give: a run would fail on anything else, after
    /// whatever it had already paid for.
    private func checkExpression(_ expression: PlanExpression, in scope: Scope, expecting expected: SettingType, field: String) {
        checkExpression(expression, in: scope)
        checkType(of: expression, in: scope, expecting: expected, field: field)
    }

    private func checkType(of expression: PlanExpression, in scope: Scope, expecting expected: SettingType, field: String) {
        let type = expression.compiled.resultType(environment(for: scope))
        guard !expected.accepts(type) else { return }
        report(
            .expression, "'\(field)' must be \(expected.words), but this expression is of type \(type)",
            expression.pointer, expression.offsetInString)
    }

    /// The variables an expression sees at this point, typed as far as the plan tells.
    func environment(for scope: Scope) -> CELTypeEnvironment {
        var variables: [String: CELType] = [
            "inputs": inputType,
            "steps": .object(scope.stepTypes, closed: false),
        ]
        for name in scope.itemNames { variables[name] = scope.itemTypes[name] ?? .dyn }
        if scope.inLoop { variables["loop"] = scope.loopType }
        return CELTypeEnvironment(variables: variables)
    }

    /// CEL's type identifiers (`type(x) == string`): names the language defines, not variables.
    private static let celTypeNames: Set<String> = [
        "bool", "int", "uint", "double", "string", "bytes", "list", "map", "null_type", "type", "dyn",
    ]

    private func checkTemplate(_ template: TemplateText, in scope: Scope) {
        // Compiled here when the plan was validated before but has call steps, so is checked again.
        let compiled: PlanTemplate
        do {
            compiled = try template.compiled()
        } catch {
            report(.template, "invalid template: \(error.message)", template.pointer, error.offset)
            return
        }
        for reference in compiled.references where !reference.path.isEmpty {
            if let problem = problem(with: reference.path, in: scope, insideSection: reference.sectionDepth > 0)
                ?? optionalRead(reference, tested: scope.testedInputs)
            {
                report(.reference, problem, template.pointer, reference.offset)
            }
        }
    }

    // MARK: - Optional inputs

    /// The optional inputs an expression tests with `has(inputs.x)`.
    private static func testedInputs(in references: [CELReference]) -> Set<String> {
        Set(references.filter { $0.isPresenceTest && $0.path.count == 2 && $0.path[0] == "inputs" }.map { $0.path[1] })
    }

    private static func testedInputs(in expression: PlanExpression) -> Set<String> {
        testedInputs(in: expression.compiled.references)
    }

    /// Why an expression's read of an optional input without a default is unsafe, or nil.
    ///
    /// Guarded reads pass: any `has(inputs.x)` in the same expression or in the `when` of the
    /// step or of an enclosing step (this does not follow the logic: the test shows the
    /// author knows the input may be missing).
    private func optionalRead(_ reference: CELReference, tested: Set<String>) -> String? {
        guard reference.path.count >= 2, reference.path[0] == "inputs", optionalInputs.contains(reference.path[1]),
            !tested.contains(reference.path[1]), !(reference.isPresenceTest && reference.path.count == 2)
        else { return nil }
        let name = reference.path[1]
        return "input '\(name)' is optional and has no default, so reading it fails when a run leaves it out: "
            + "give it a \"default\", list it in \"required\", or test has(inputs.\(name)) first"
    }

    /// Why a template's use of an optional input without a default is unsafe, or nil.
    ///
    /// A section on the input (`{{#inputs.x}}…{{/inputs.x}}`, or `{{^…}}`) tests it, and so
    /// does a `has(inputs.x)` in the `when` of the step or of an enclosing step.
    private func optionalRead(_ reference: TemplateReference, tested: Set<String>) -> String? {
        let path = reference.path
        guard !reference.isSection, path.count >= 2, path[0] == "inputs", optionalInputs.contains(path[1]),
            !tested.contains(path[1])
        else { return nil }
        let name = "inputs.\(path[1])"
        if reference.enclosingSections.contains(where: { $0 == name || $0.hasPrefix(name + ".") }) { return nil }
        return "input '\(path[1])' is optional and has no default, so this renders nothing when a run leaves it out: "
            + "give it a \"default\", list it in \"required\", or put it inside {{#\(name)}}…{{/\(name)}}"
    }

    /// Why `path` cannot be used here, or `nil` when it can.
    private func problem(with path: [String], in scope: Scope, insideSection: Bool) -> String? {
        guard let root = path.first else { return nil }
        switch root {
        case "inputs":
            guard path.count >= 2, let inputNames, !inputNames.contains(path[1]) else { return nil }
            let known = inputNames.sorted().joined(separator: ", ")
            return "unknown input '\(path[1])' (the plan's inputs are: \(known.isEmpty ? "none" : known))"
                + NameSuggestion.didYouMean(path[1], among: inputNames)
        case "steps":
            guard path.count >= 2 else { return nil }
            let id = path[1]
            if path.count >= 3, path[2] != "output" {
                return "'steps.\(id).\(path[2])' does not exist: a step exposes only 'output'"
            }
            if scope.steps.contains(id) { return nil }
            guard allSteps[id] != nil else {
                // The suggestion comes from the steps visible here, the ones this place may read.
                return undecodedIDs.contains(id) ? nil : "unknown step '\(id)'" + NameSuggestion.didYouMean(id, among: scope.steps)
            }
            if id == scope.current { return "step '\(id)' cannot use its own output" }
            if let parent = parents[id], !isEnclosing(parent.id, scope), case .map = parent.kind {
                return "step '\(id)' is inside map '\(parent.id)' and not visible outside it"
            }
            return "step '\(id)' runs later than this point"
        case "loop":
            guard scope.inLoop else { return "'loop' is only defined inside a loop" }
            if path.count >= 2, !["iteration", "best", "feedback"].contains(path[1]) {
                return "'loop.\(path[1])' does not exist (loop has iteration, best, feedback)"
            }
            return nil
        default:
            if scope.itemNames.contains(root) { return nil }
            if root == "item" || root == "index" { return "'\(root)' is only defined inside a map" }
            if insideSection { return nil }
            return "unknown name '\(root)' (expected inputs, steps\(scope.itemNames.isEmpty ? "" : ", " + scope.itemNames.sorted().joined(separator: ", "))\(scope.inLoop ? ", loop" : ""))"
        }
    }

    /// The ids of every step in a raw `steps` array, nested bodies included.
    private static func stepIDs(in steps: JSONValue?) -> Set<String> {
        var ids = Set<String>()
        for step in steps?.arrayValue ?? [] {
            if let id = step["id"]?.stringValue { ids.insert(id) }
            ids.formUnion(stepIDs(in: step["steps"]))
        }
        return ids
    }

    /// Whether the step `id` encloses the point being checked (its body is being walked).
    private func isEnclosing(_ id: String, _ scope: Scope) -> Bool {
        var current = scope.current
        while let name = current {
            if name == id { return true }
            current = parents[name]?.id
        }
        return false
    }
}
