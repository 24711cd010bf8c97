public import SluiceJSON

/// A step's settings as the decoder read them, each per its declared ``StepSetting/Form``:
/// what a kind's ``StepKindDeclaration/init(settings:body:)`` builds from, and what the
/// validator walks to check every expression, template and literal generically.
public struct StepSettings: Sendable {
    /// One decoded setting.
    public enum Value: Sendable {
        case literal(JSONValue)
        case template(TemplateText)
        case expression(PlanExpression)
        case number(NumberSetting)
        case value(PlanValue)
    }

    var values: [String: Value] = [:]

    public subscript(name: String) -> Value? { values[name] }

    public func template(_ name: String) -> TemplateText? {
        if case .template(let text)? = values[name] { text } else { nil }
    }

    public func expression(_ name: String) -> PlanExpression? {
        if case .expression(let expression)? = values[name] { expression } else { nil }
    }

    public func number(_ name: String) -> NumberSetting? {
        if case .number(let number)? = values[name] { number } else { nil }
    }

    public func value(_ name: String) -> PlanValue? {
        if case .value(let value)? = values[name] { value } else { nil }
    }

    public func literal(_ name: String) -> JSONValue? {
        if case .literal(let value)? = values[name] { value } else { nil }
    }

    public func string(_ name: String) -> String? { literal(name)?.stringValue }
    public func bool(_ name: String) -> Bool? { literal(name)?.boolValue }
    public func double(_ name: String) -> Double? { literal(name)?.doubleValue }
    public func int(_ name: String) -> Int? { literal(name)?.integerValue.map { Int($0) } }
}

extension Step {
    /// The settings every step has, whatever its kind.
    public static let commonSettings: [StepSetting] = [
        StepSetting("id", .literal, .string, required: true),
        StepSetting("kind", .literal, .oneOf(StepKinds.all.map { $0.name }), required: true),
        StepSetting("title", .literal, .string),
        StepSetting("when", .expression, .bool),
        StepSetting("status", .literal, .string),
        StepSetting("message", .template, .string),
        StepSetting("details", .value, .any),
        StepSetting("retry", .literal, .object),
        StepSetting("timeout_seconds", .numberOrExpression, .number, bounds: .above(0)),
    ]

    static let commonSettingNames = Set(commonSettings.map(\.name))

    /// The declared kind, without copying the settings (cheap enough for the engine's hot path).
    public var declaredKind: any StepKindDeclaration.Type {
        switch kind {
        case .llm: LLMStep.self
        case .search: SearchStep.self
        case .fetch: FetchStep.self
        case .load: LoadStep.self
        case .map: MapStep.self
        case .loop: LoopStep.self
        case .gate: GateStep.self
        case .confirm: ConfirmStep.self
        case .template: TemplateStep.self
        case .set: SetStep.self
        case .call: CallStep.self
        case .validate: ValidateStep.self
        }
    }

    /// This step's kind settings as their declaration (output type, drawing, bounds).
    public var declaration: any StepKindDeclaration {
        switch kind {
        case .llm(let settings): settings
        case .search(let settings): settings
        case .fetch(let settings): settings
        case .load(let settings): settings
        case .map(let settings): settings
        case .loop(let settings): settings
        case .gate(let settings): settings
        case .confirm(let settings): settings
        case .template(let settings): settings
        case .set(let settings): settings
        case .call(let settings): settings
        case .validate(let settings): settings
        }
    }
}
