import SluiceJSON

/// Turns a plan document that passed the plan schema into the ``Plan`` model.
///
/// Structure was already checked against `plan.schema.json`, so this decoder is lenient about
/// shapes (a wrongly typed field is simply absent here; the schema reported it) and reports
/// only what the schema cannot see: expressions and templates that do not compile, value
/// strings that mix `${…}` with text, and unusable JSON Schemas.
final class PlanDecoder {
    private let source: PlanSource
    private(set) var diagnostics: [PlanDiagnostic] = []
    /// Where the last position inside a string was found (see `PlanSource.StringCursor`).
    private var cursor: PlanSource.StringCursor?
    /// Steps decoded so far, bodies included, against ``Plan/Limits/maxSteps``.
    private var stepCount = 0

    /// Whether templates are compiled when first rendered instead of now (a plan this binary
    /// already validated: see ``TemplateText``).
    private let defersTemplates: Bool

    init(source: PlanSource, defersTemplates: Bool = false) {
        self.source = source
        self.defersTemplates = defersTemplates
    }

    func decodePlan() -> Plan? {
        guard let root = source.document.value.objectValue else { return nil }
        let steps = decodeSteps(root["steps"], at: JSONPointer.root.appending("steps"))
        let plan = Plan(
            name: root["name"]?.stringValue ?? "",
            title: root["title"]?.stringValue,
            description: root["description"]?.stringValue,
            version: root["version"]?.stringValue,
            inputSchema: root["inputs"] ?? ["type": "object"],
            models: decodeModels(root["models"]),
            budget: decodeBudget(root["budget"]),
            billing: decodeBilling(root["billing"], at: JSONPointer.root.appending("billing")),
            cache: decodeCache(root["cache"]),
            steps: steps,
            output: decodeOutput(root["output"], at: JSONPointer.root.appending("output")),
            source: source
        )
        checkSchema(root["inputs"], at: JSONPointer.root.appending("inputs"), code: .inputSchema, what: "input schema")
        return plan
    }

    // MARK: Top level

    private func decodeModels(_ value: JSONValue?) -> [String: ModelSpec] {
        var models: [String: ModelSpec] = [:]
        for (name, spec) in value?.objectValue ?? [:] {
            if let model = spec.stringValue {
                models[name] = ModelSpec(model: model)
            } else if let object = spec.objectValue, let model = object["model"]?.stringValue {
                models[name] = ModelSpec(
                    model: model,
                    temperature: object["temperature"]?.doubleValue,
                    maxTokens: object["max_tokens"]?.integerValue.map { Int($0) },
                    onTruncation: object["on_truncation"]?.stringValue.flatMap(TruncationSetting.init(rawValue:)),
                    maxRepairs: object["max_repairs"]?.integerValue.map { Int($0) }
                )
            }
        }
        return models
    }

    private func decodeBudget(_ value: JSONValue?) -> Budget {
        Budget(
            maxTokens: value?["max_tokens"]?.integerValue.map { Int($0) },
            maxCostUSD: value?["max_cost_usd"]?.doubleValue,
            maxSteps: value?["max_steps"]?.integerValue.map { Int($0) },
            timeoutSeconds: value?["timeout_seconds"]?.doubleValue
        )
    }

    private func decodeBilling(_ value: JSONValue?, at pointer: JSONPointer) -> Billing {
        guard value?["mode"]?.stringValue == "per_item",
            let items = expression(value?["items"], at: pointer.appending("items"))
        else { return .perRun }
        return .perItem(items: items, unitPriceUSD: value?["unit_price_usd"]?.doubleValue)
    }

    /// `true` or `{"ttl": "12h"}`; the schema checked the ttl's form.
    private func decodeCache(_ value: JSONValue?) -> CacheSetting? {
        if value?.boolValue == true { return CacheSetting() }
        guard let object = value?.objectValue else { return nil }
        return CacheSetting(timeToLive: object["ttl"]?.stringValue.flatMap(CacheSetting.seconds(in:)))
    }

    private func decodeOutput(_ value: JSONValue?, at pointer: JSONPointer) -> Output? {
        guard let object = value?.objectValue else { return nil }
        checkSchema(object["schema"], at: pointer.appending("schema"), code: .outputSchema, what: "output schema")
        return Output(
            value: planValue(object["value"] ?? .null, at: pointer.appending("value")),
            schema: object["schema"]
        )
    }

    // MARK: Steps

    private func decodeSteps(_ value: JSONValue?, at pointer: JSONPointer) -> [Step] {
        guard let items = value?.arrayValue else { return [] }
        // Bodies nest through `steps`: /steps/0/steps is the second level.
        let level = (pointer.tokens.count + 1) / 2
        guard level <= Plan.Limits.maxStepNesting else {
            report(
                .limit, "steps nest deeper than \(Plan.Limits.maxStepNesting) levels of map and loop bodies",
                at: pointer, offset: nil)
            return []
        }
        var steps: [Step] = []
        for (index, item) in items.enumerated() {
            stepCount += 1
            if stepCount == Plan.Limits.maxSteps + 1 {
                report(.limit, "a plan may have at most \(Plan.Limits.maxSteps) steps, bodies included", at: pointer.appending(index: index), offset: nil)
            }
            guard stepCount <= Plan.Limits.maxSteps else { break }
            if let step = decodeStep(item, at: pointer.appending(index: index)) { steps.append(step) }
        }
        return steps
    }

    private func decodeStep(_ value: JSONValue, at pointer: JSONPointer) -> Step? {
        guard let object = value.objectValue, let id = object["id"]?.stringValue,
            let kindName = object["kind"]?.stringValue, let declaration = StepKinds.named(kindName)
        else { return nil }
        // A kind may redeclare a common setting (confirm's `details`): it is read once.
        var settings = StepSettings()
        settings.values.reserveCapacity(object.count)
        decodeSettings(Step.commonSettings, of: object, at: pointer, into: &settings)
        decodeSettings(declaration.settings, of: object, at: pointer, into: &settings)
        let body = declaration.hasBody ? decodeSteps(object["steps"], at: pointer.appending("steps")) : []
        // A missing required setting means the schema already complained.
        guard let kind = declaration.init(settings: settings, body: body)?.kind else { return nil }
        return Step(
            id: id,
            kind: kind,
            title: settings.string("title"),
            when: settings.expression("when"),
            status: settings.string("status"),
            message: settings.template("message"),
            details: settings.value("details"),
            retry: settings.literal("retry").map { retry in
                RetryPolicy(
                    maxAttempts: retry["max_attempts"]?.integerValue.map { Int($0) } ?? 3,
                    initialDelayMilliseconds: retry["initial_delay_ms"]?.integerValue.map { Int($0) } ?? 500,
                    maxDelayMilliseconds: retry["max_delay_ms"]?.integerValue.map { Int($0) } ?? 8000
                )
            },
            timeoutSeconds: settings.number("timeout_seconds"),
            pointer: pointer,
            settings: settings
        )
    }

    /// Reads each declared setting the step has by its form: templates and expressions are
    /// compiled, literal JSON Schemas checked; what does not compile is reported and left out.
    private func decodeSettings(
        _ declared: [StepSetting], of object: JSONObject, at pointer: JSONPointer, into settings: inout StepSettings
    ) {
        for setting in declared where settings.values[setting.name] == nil {
            guard let raw = object[setting.name] else { continue }
            let field = pointer.appending(setting.name)
            let decoded: StepSettings.Value?
            switch setting.form {
            case .literal:
                if case .jsonSchema(let what) = setting.type { checkSchema(raw, at: field, code: .outputSchema, what: what) }
                decoded = .literal(raw)
            case .template:
                decoded = template(raw, at: field).map(StepSettings.Value.template)
            case .expression:
                decoded = expression(raw, at: field).map(StepSettings.Value.expression)
            case .numberOrExpression:
                decoded = number(raw, at: field).map(StepSettings.Value.number)
            case .value:
                let value = planValue(raw, at: field)
                // A literal schema is compiled now; one computed by an expression when the step runs.
                if case .jsonSchema(let what) = setting.type, case .literal = value {
                    checkSchema(raw, at: field, code: .outputSchema, what: what)
                }
                decoded = .value(value)
            case .body:
                decoded = nil
            }
            if let decoded { settings.values[setting.name] = decoded }
        }
    }

    // MARK: Fields

    /// A field that is always an expression (`when`, `until`, `over`, …).
    private func expression(_ value: JSONValue?, at pointer: JSONPointer) -> PlanExpression? {
        guard let text = value?.stringValue else { return nil }
        if case .expression = ValueString(text) {
            report(
                .valueSyntax,
                "'\(pointer.tokens.last ?? "")' is always an expression: write it without ${…}",
                at: pointer, offset: 0)
            return nil
        }
        return compileExpression(text, at: pointer, offset: 0)
    }

    /// A field that is always a template (`prompt`, `system`, `message`, `template`).
    private func template(_ value: JSONValue?, at pointer: JSONPointer) -> TemplateText? {
        guard let text = value?.stringValue else { return nil }
        return compileTemplate(text, at: pointer)
    }

    /// A number field: a literal number, or `"${expr}"`.
    private func number(_ value: JSONValue?, at pointer: JSONPointer) -> NumberSetting? {
        guard let value else { return nil }
        if let number = value.doubleValue { return .literal(number) }
        guard let text = value.stringValue else { return nil }
        switch ValueString(text) {
        case .expression(let inner):
            return compileExpression(inner, at: pointer, offset: 2).map(NumberSetting.expression)
        case .mixed(let offset):
            // `"${a}${b}"` passes the schema's pattern; without this the setting (or, for a
            // required one, the whole step) would silently vanish.
            report(
                .valueSyntax,
                "'${' must wrap the whole string to make an expression; a number setting takes one \"${…}\"",
                at: pointer, offset: offset)
            return nil
        case .literal, .template:
            return nil  // the schema's pattern already refused it
        }
    }

    /// A value field: strings are literals, templates or expressions by their shape.
    func planValue(_ value: JSONValue, at pointer: JSONPointer) -> PlanValue {
        switch value {
        case .string(let text):
            switch ValueString(text) {
            case .literal: return .literal(value)
            case .expression(let inner):
                return compileExpression(inner, at: pointer, offset: 2).map(PlanValue.expression) ?? .literal(value)
            case .template:
                return compileTemplate(text, at: pointer).map(PlanValue.template) ?? .literal(value)
            case .mixed(let offset):
                report(
                    .valueSyntax,
                    "'${' must wrap the whole string to make an expression; use {{…}} to insert values into text",
                    at: pointer, offset: offset)
                return .literal(value)
            }
        case .array(let items):
            let values = items.enumerated().map { planValue($1, at: pointer.appending(index: $0)) }
            if values.allSatisfy({ if case .literal = $0 { true } else { false } }) { return .literal(value) }
            return .array(values)
        case .object(let object):
            let members = object.members.map { (key: $0.key, value: planValue($0.value, at: pointer.appending($0.key))) }
            if members.allSatisfy({ if case .literal = $0.value { true } else { false } }) { return .literal(value) }
            return .object(members)
        default:
            return .literal(value)
        }
    }

    private func compileExpression(_ text: String, at pointer: JSONPointer, offset: Int) -> PlanExpression? {
        do {
            return PlanExpression(
                source: text, compiled: try CELExpression(parsing: text), pointer: pointer, offsetInString: offset)
        } catch {
            report(.expression, "invalid expression: \(error.message)", at: pointer, offset: offset + (error.offset ?? 0))
            return nil
        }
    }

    private func compileTemplate(_ text: String, at pointer: JSONPointer) -> TemplateText? {
        if defersTemplates { return TemplateText(deferred: text, pointer: pointer) }
        do {
            return TemplateText(source: text, compiled: try PlanTemplate(text), pointer: pointer)
        } catch {
            report(.template, "invalid template: \(error.message)", at: pointer, offset: error.offset)
            return nil
        }
    }

    private func checkSchema(_ value: JSONValue?, at pointer: JSONPointer, code: PlanDiagnostic.Code, what: String) {
        guard let value else { return }
        do {
            _ = try JSONSchema(value)
        } catch {
            let inner = JSONPointer(tokens: pointer.tokens + error.schemaPath.tokens)
            report(code, "invalid \(what): \(error.message)", at: inner, offset: nil)
        }
    }

    func report(_ code: PlanDiagnostic.Code, _ message: String, at pointer: JSONPointer, offset: Int?) {
        let location =
            offset.flatMap { source.location(of: pointer, characterOffset: $0, cursor: &cursor) }
            ?? source.location(of: pointer)
        diagnostics.append(
            PlanDiagnostic(code: code, message: message, pointer: pointer, location: location, file: source.path))
    }
}

/// What a string in a value field is, by its shape alone.
enum ValueString: Equatable {
    case literal
    /// `${…}` around the whole string; the associated text is what is inside.
    case expression(String)
    case template
    /// `${` somewhere other than around the whole string, at this scalar offset.
    case mixed(offset: Int)

    init(_ text: String) {
        let scalars = Array(text.unicodeScalars)
        if scalars.count >= 3, scalars.starts(with: ["$", "{"]), scalars.last == "}" {
            let inner = String(String.UnicodeScalarView(scalars[2..<(scalars.count - 1)]))
            if !inner.contains("${") {
                self = .expression(inner)
                return
            }
        }
        if text.contains("{{") {
            self = .template
        } else if let offset = scalars.indices.dropLast().first(where: { scalars[$0] == "$" && scalars[$0 + 1] == "{" }) {
            self = .mixed(offset: offset)
        } else {
            self = .literal
        }
    }
}
