public import SluiceJSON

/// One step kind, declared once: its name, its settings and how each is written, its output
/// type, how the graph draws it and how it executes.
///
/// Everything else is derived from the declaration: the decoder reads each setting by its
/// ``StepSetting/Form`` (and reports what does not compile), the validator checks each
/// expression against the setting's type and each literal against its range, the plan's graph
/// draws the step, and a test holds `schemas/plan.schema.json`'s per-kind field lists to the
/// declared settings. Adding a kind means one file declaring it (its settings struct adopting
/// this protocol), a case in ``Step/Kind``, an entry in ``StepKinds/all``, and the engine's
/// executor. (The engine keeps one `switch` over ``Step/Kind``: a kind's executor captures only
/// that kind's settings, so a waiting step holds one kind's frame, not one with room for all.)
public protocol StepKindDeclaration: Sendable {
    /// The name plans spell in `"kind"`.
    static var name: String { get }
    /// The kind's own settings; the ones every step has are ``Step/commonSettings``.
    static var settings: [StepSetting] { get }
    /// How the engine runs steps of this kind.
    static var execution: StepExecution { get }
    /// Builds the kind's settings from those decoded per their declared form; nil when a
    /// required one is missing or did not compile (its diagnostic was reported).
    init?(settings: StepSettings, body: [Step])
    /// The settings wrapped as the kind the engine dispatches on.
    var kind: Step.Kind { get }
    /// The type of the step's output as the validator knows it before the plan runs.
    func outputType(_ typing: OutputTyping) -> CELType
    /// How the plan's graph draws a step of this kind.
    func drawing(of step: Step) -> StepDrawing
    /// The bounds a literal value of `setting` must keep; by default the setting's own.
    func bounds(of setting: StepSetting) -> SettingBounds?
}

extension StepKindDeclaration {
    public func drawing(of step: Step) -> StepDrawing { .node(detail: nil) }
    public func bounds(of setting: StepSetting) -> SettingBounds? { setting.bounds }
    /// Whether the kind has a body of steps (map and loop).
    public static var hasBody: Bool { settings.contains { $0.form == .body } }
}

/// Every step kind, in the order the docs and the schema list them.
public enum StepKinds {
    public static let all: [any StepKindDeclaration.Type] = [
        LLMStep.self, SearchStep.self, FetchStep.self, LoadStep.self, MapStep.self, LoopStep.self,
        GateStep.self, ConfirmStep.self, TemplateStep.self, SetStep.self, CallStep.self, ValidateStep.self,
    ]

    /// The declaration of the kind plans spell `name`.
    public static func named(_ name: String) -> (any StepKindDeclaration.Type)? {
        byName[name]
    }

    private static let byName: [String: any StepKindDeclaration.Type] = Dictionary(
        uniqueKeysWithValues: all.map { ($0.name, $0) })
}

/// How the engine runs a kind.
public enum StepExecution: Sendable {
    /// Computes from the run's context alone: nothing to wait for, no provider to call.
    case computes
    /// One piece of work that may call a provider or a person; the step's `retry` applies to it.
    case acts
    /// Runs steps of its own (a body, another plan), which retry inside.
    case runsSteps
}

/// How the plan's graph draws a step.
public enum StepDrawing: Sendable {
    /// A box: the id, the kind, and a detail after a colon when there is one.
    case node(detail: String?)
    /// A box around the body; a `backEdge` label draws a dashed edge from the last body step
    /// back to the first (a loop's exit condition).
    case group(label: String, body: [Step], backEdge: String?)
}

/// One setting of a step kind: its name, how it is written, of what type, and its bounds.
public struct StepSetting: Sendable, Equatable {
    /// How a setting is written in a plan.
    public enum Form: Sendable, Equatable {
        /// Plain JSON, taken as written: never evaluated.
        case literal
        /// Always a Mustache template.
        case template
        /// Always a CEL expression, written bare (without `${…}`).
        case expression
        /// A number, or `"${expr}"` yielding one.
        case numberOrExpression
        /// Any JSON: a string is an expression when it is exactly `"${…}"`, a template when it
        /// holds `{{`, a literal otherwise; arrays and objects are walked.
        case value
        /// A body of steps (`steps` of map and loop).
        case body
    }

    public let name: String
    public let form: Form
    /// What the setting's value must be (an expression's result, a literal's JSON type).
    public let type: SettingType
    public let isRequired: Bool
    public let bounds: SettingBounds?
    /// Whether an expression in it is checked inside the body's scope (`until`, `result`).
    public let seesBody: Bool

    public init(
        _ name: String, _ form: Form, _ type: SettingType, required: Bool = false, bounds: SettingBounds? = nil,
        seesBody: Bool = false
    ) {
        self.name = name
        self.form = form
        self.type = type
        self.isRequired = required
        self.bounds = bounds
        self.seesBody = seesBody
    }
}

/// What a setting's value must be.
public enum SettingType: Sendable, Equatable {
    case bool, integer, number, string, list, object, any
    /// A JSON Schema, compiled when the plan is validated if written literally; `what` names
    /// it in errors ("output schema").
    case jsonSchema(what: String)
    /// One of these strings.
    case oneOf([String])

    /// Whether an expression of static type `type` can give a value of this type.
    func accepts(_ type: CELType) -> Bool {
        switch (self, type) {
        case (_, .dyn), (.any, _), (.bool, .bool), (.list, .list), (.integer, .int), (.integer, .uint),
            (.number, .int), (.number, .uint), (.number, .double), (.string, .string), (.oneOf, .string),
            (.object, .map), (.object, .object), (.jsonSchema, .map), (.jsonSchema, .object), (.jsonSchema, .bool):
            true
        default:
            false
        }
    }

    /// The type in words, for messages: "a bool (true or false)".
    var words: String {
        switch self {
        case .bool: "a bool (true or false)"
        case .integer: "an integer"
        case .number: "a number"
        case .string: "a string"
        case .list: "a list"
        case .object: "an object"
        case .any: "any value"
        case .jsonSchema: "a JSON Schema (an object)"
        case .oneOf(let names): "one of " + names.map { "\"\($0)\"" }.joined(separator: ", ")
        }
    }
}

/// The range a literal number must be in: `concurrency` ≥ 1, `timeout_seconds` > 0, a gate's
/// `threshold` within its scale.
public struct SettingBounds: Sendable, Equatable {
    public var minimum: Double?
    /// When true the value must be greater than `minimum`, not equal to it.
    public var exclusiveMinimum: Bool
    public var maximum: Double?

    public init(minimum: Double?, exclusiveMinimum: Bool, maximum: Double?) {
        self.minimum = minimum
        self.exclusiveMinimum = exclusiveMinimum
        self.maximum = maximum
    }

    public static func atLeast(_ minimum: Double) -> SettingBounds {
        SettingBounds(minimum: minimum, exclusiveMinimum: false, maximum: nil)
    }

    public static func above(_ minimum: Double) -> SettingBounds {
        SettingBounds(minimum: minimum, exclusiveMinimum: true, maximum: nil)
    }

    public static func within(_ minimum: Double, _ maximum: Double) -> SettingBounds {
        SettingBounds(minimum: minimum, exclusiveMinimum: false, maximum: maximum)
    }

    /// Why `value` is out of bounds, or nil when it is within them.
    func violation(by value: Double) -> String? {
        let shown = { (number: Double) in number == number.rounded() && abs(number) < 1e15 ? String(Int(number)) : String(number) }
        switch (minimum, maximum) {
        case (let low?, let high?) where value < low || value > high:
            return "must be between \(shown(low)) and \(shown(high)), got \(shown(value))"
        case (let low?, _) where exclusiveMinimum && value <= low:
            return "must be greater than \(shown(low)), got \(shown(value))"
        case (let low?, nil) where !exclusiveMinimum && value < low:
            return "must be at least \(shown(low)), got \(shown(value))"
        case (nil, let high?) where value > high:
            return "must be at most \(shown(high)), got \(shown(value))"
        default:
            return nil
        }
    }
}

/// What the validator knows when it types a step's output: its body's outputs and the plans it
/// may call.
public struct OutputTyping {
    /// The output types of the body's own steps, in order (map and loop).
    public var body: [(id: String, type: CELType)]
    /// The type of a value evaluated in the body's scope (a map's `result`).
    public var valueInBody: (PlanValue) -> CELType
    /// The output type of the plan a `call` names (`dyn` when it is not known).
    public var calledPlanOutput: (String) -> CELType
}

extension CELType {
    /// This type with every object that declares properties closed: where a plan's own schema
    /// says what an output holds, a read of a property it does not declare is a typo
    /// (`steps.outline.output.titel`), not a property the model might add.
    var closingDeclaredObjects: CELType {
        switch self {
        case .object(let fields, _) where !fields.isEmpty:
            .object(fields.mapValues(\.closingDeclaredObjects), closed: true)
        case .list(let element):
            .list(element.closingDeclaredObjects)
        case .map(let key, let value):
            .map(key: key, value: value.closingDeclaredObjects)
        default:
            self
        }
    }
}
