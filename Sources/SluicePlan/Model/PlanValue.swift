public import SluiceJSON
import Synchronization

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

/// A Mustache template from a plan, compiled when the plan was loaded — or, for a plan this
/// binary already validated (``PlanValidationCache``), when it is first rendered: compiling a
/// plan's templates is a noticeable part of `sluice run`'s start, and a validated plan's
/// templates are known to compile, so the first event need not wait for them.
public final class TemplateText: Sendable {
    public let source: String
    public let pointer: JSONPointer
    /// The compiled template, or why it does not compile; nil until a deferred one is first used.
    private let state: Mutex<Result<PlanTemplate, TemplateError>?>

    init(source: String, compiled: PlanTemplate, pointer: JSONPointer) {
        self.source = source
        self.pointer = pointer
        self.state = Mutex(.success(compiled))
    }

    /// A template compiled on first use.
    init(deferred source: String, pointer: JSONPointer) {
        self.source = source
        self.pointer = pointer
        self.state = Mutex(nil)
    }

    /// The compiled template.
    /// - Throws: `TemplateError` when a deferred template does not compile, which a validated
    ///   plan's cannot unless its cache entry was forged (the folder is trusted, but a run must
    ///   still fail cleanly rather than trap).
    public func compiled() throws(TemplateError) -> PlanTemplate {
        let result = state.withLock { state in
            if let state { return state }
            let compiled: Result<PlanTemplate, TemplateError>
            do throws(TemplateError) { compiled = .success(try PlanTemplate(source)) } catch { compiled = .failure(error) }
            state = compiled
            return compiled
        }
        return try result.get()
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
