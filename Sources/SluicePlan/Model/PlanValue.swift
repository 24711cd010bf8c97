public import SluiceJSON

/// A CEL expression from a plan, compiled when the plan was loaded.
///
/// A class, like ``TemplateText`` and ``Step``: plan parts are immutable once loaded, and a
/// reference keeps the engine's async frames small (a run holds thousands of them at once).
public final class PlanExpression: Sendable {
    /// The expression as written (without any `${…}` marker).
    public let source: String
    public let compiled: CELExpression
    /// Where the expression's string sits in the plan document.
    public let pointer: JSONPointer
    /// Where the expression starts in its string: 2 for `"${…}"`, 0 for fields that are always expressions.
    public let offsetInString: Int
    /// What the expression reads of each step's output (`steps.<id>.output…`), so a run
    /// converts only that to CEL; nil when it uses `steps` as a whole.
    public let stepReads: [String: OutputReads]?
    /// What it reads of `loop` inside a loop body; nil when it does not use `loop`.
    public let loopReads: OutputReads?

    init(source: String, compiled: CELExpression, pointer: JSONPointer, offsetInString: Int) {
        self.source = source
        self.compiled = compiled
        self.pointer = pointer
        self.offsetInString = offsetInString
        let references = compiled.references
        self.stepReads = OutputReads.ofSteps(in: references)
        self.loopReads = OutputReads.of("loop", in: references)
    }
}

/// A Mustache template from a plan, compiled when the plan was loaded.
public final class TemplateText: Sendable {
    public let source: String
    public let compiled: PlanTemplate
    public let pointer: JSONPointer

    init(source: String, compiled: PlanTemplate, pointer: JSONPointer) {
        self.source = source
        self.compiled = compiled
        self.pointer = pointer
    }
}

/// A field whose strings may be literals, templates or expressions.
///
/// Which one a string is depends on its shape alone (see docs/plan-language.md):
/// exactly `"${expr}"` is an expression, anything containing `{{` a template, the rest literal.
public indirect enum PlanValue: Sendable {
    /// A value with no expression or template anywhere inside it.
    case literal(JSONValue)
    case expression(PlanExpression)
    case template(TemplateText)
    case array([PlanValue])
    case object([(key: String, value: PlanValue)])
}

/// A numeric setting such as `max_iterations`: a number, or an expression that yields one.
public enum NumberSetting: Sendable {
    case literal(Double)
    case expression(PlanExpression)
}

extension PlanValue {
    /// Every expression inside this value, in document order.
    public var expressions: [PlanExpression] {
        switch self {
        case .literal, .template: []
        case .expression(let e): [e]
        case .array(let items): items.flatMap(\.expressions)
        case .object(let members): members.flatMap(\.value.expressions)
        }
    }

    /// Every template inside this value, in document order.
    public var templates: [TemplateText] {
        switch self {
        case .literal, .expression: []
        case .template(let t): [t]
        case .array(let items): items.flatMap(\.templates)
        case .object(let members): members.flatMap(\.value.templates)
        }
    }
}

extension NumberSetting {
    public var expression: PlanExpression? {
        if case .expression(let e) = self { e } else { nil }
    }
}
