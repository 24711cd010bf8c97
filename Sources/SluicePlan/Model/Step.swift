public import SluiceJSON

/// One step of a plan: the settings every kind shares, and the kind's own.
///
/// A class: immutable once loaded, and passed by reference through the engine's async calls
/// (a copy of the struct it used to be took 664 bytes in every frame that held one).
public final class Step: Sendable {
    public let id: String
    public let kind: Kind
    public let title: String?
    /// Runs the step only when true; otherwise the step is skipped.
    public let when: PlanExpression?
    /// Progress status announced when the step starts (e.g. `generating_sections`).
    public let status: String?
    /// Progress message announced when the step starts (a confirm step's question).
    public let message: TemplateText?
    /// Progress details announced when the step starts (seed 001's `msg.details`), evaluated
    /// then: e.g. the section a previous step just wrote. A confirm step's details are also what
    /// the person is asked to approve.
    public let details: PlanValue?
    public let retry: RetryPolicy?
    /// Per-attempt time limit.
    public let timeoutSeconds: NumberSetting?
    /// Where the step is in the plan document.
    public let pointer: JSONPointer
    /// Every setting as decoded per its declared form, common and the kind's own: what the
    /// validator walks (``kind`` holds the same, typed, for the engine).
    public let settings: StepSettings

    init(
        id: String, kind: Kind, title: String?, when: PlanExpression?, status: String?, message: TemplateText?,
        details: PlanValue?, retry: RetryPolicy?, timeoutSeconds: NumberSetting?, pointer: JSONPointer,
        settings: StepSettings
    ) {
        self.settings = settings
        self.id = id
        self.kind = kind
        self.title = title
        self.when = when
        self.status = status
        self.message = message
        self.details = details
        self.retry = retry
        self.timeoutSeconds = timeoutSeconds
        self.pointer = pointer
    }
}

extension Step {
    /// What a step does, with that kind's own settings: one case per declared kind (see
    /// ``StepKindDeclaration``), the table the engine dispatches on.
    public enum Kind: Sendable {
        case llm(LLMStep)
        case search(SearchStep)
        case fetch(FetchStep)
        case load(LoadStep)
        case map(MapStep)
        case loop(LoopStep)
        case gate(GateStep)
        case confirm(ConfirmStep)
        case template(TemplateStep)
        case set(SetStep)
        case call(CallStep)
        case validate(ValidateStep)
    }

    /// The names of the kinds, as plans spell them.
    public static var kindNames: [String] { StepKinds.all.map { $0.name } }

    public var kindName: String { declaredKind.name }

    /// The steps of a `map` or `loop` body; empty for other kinds.
    public var body: [Step] {
        switch kind {
        case .map(let m): m.steps
        case .loop(let l): l.steps
        default: []
        }
    }

    /// Every step nested in this one's body, recursively, in document order.
    public var descendants: [Step] {
        body.flatMap { [$0] + $0.descendants }
    }
}

/// Retries with exponential backoff and jitter.
public struct RetryPolicy: Sendable, Hashable {
    public var maxAttempts: Int
    public var initialDelayMilliseconds: Int
    public var maxDelayMilliseconds: Int

    public init(maxAttempts: Int = 3, initialDelayMilliseconds: Int = 500, maxDelayMilliseconds: Int = 8000) {
        self.maxAttempts = maxAttempts
        self.initialDelayMilliseconds = initialDelayMilliseconds
        self.maxDelayMilliseconds = maxDelayMilliseconds
    }
}
