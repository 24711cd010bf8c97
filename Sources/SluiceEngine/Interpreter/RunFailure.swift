public import SluiceJSON

/// Why a step or a run failed: a type for programs (`run.failed`'s `error.type`), a message
/// for people, and the step it happened in.
public struct RunFailure: Error, Sendable, CustomStringConvertible {
    /// The failure types of `run.failed` and `step.failed` (see docs/events.md).
    public struct Kind: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// The inputs do not match the plan's input schema.
        public static let invalidInputs = Kind(rawValue: "invalid_inputs")
        /// A step failed (a provider error, a bad expression value, invalid model output…).
        public static let stepFailed = Kind(rawValue: "step_failed")
        /// An expression or template could not be evaluated.
        public static let expressionError = Kind(rawValue: "expression_error")
        /// A model, search, fetch or document provider failed.
        public static let providerError = Kind(rawValue: "provider_error")
        /// A model's structured output was not JSON matching the step's schema.
        public static let invalidModelOutput = Kind(rawValue: "invalid_model_output")
        /// The run went over its token, cost or step budget.
        public static let budgetExceeded = Kind(rawValue: "budget_exceeded")
        /// A step attempt or the whole run took longer than allowed.
        public static let timeout = Kind(rawValue: "timeout")
        /// A confirm step was refused, or nobody could be asked.
        public static let confirmationRefused = Kind(rawValue: "confirmation_refused")
        /// The run's result does not match the plan's output schema.
        public static let outputInvalid = Kind(rawValue: "output_invalid")
        /// A `call` step could not load or run its plan.
        public static let callFailed = Kind(rawValue: "call_failed")
        /// The run was cancelled.
        public static let cancelled = Kind(rawValue: "cancelled")

        public var description: String { rawValue }
    }

    public var kind: Kind
    public var message: String
    /// The step where it happened (nil for run-level failures).
    public var step: String?
    /// Whether trying the step again may help.
    public var isRetryable: Bool

    public init(_ kind: Kind, _ message: String, step: String? = nil, isRetryable: Bool = false) {
        self.kind = kind
        self.message = message
        self.step = step
        self.isRetryable = isRetryable
    }

    public var description: String {
        (step.map { "step '\($0)': " } ?? "") + message
    }

    /// `{type, message, step?}` for events.
    public var jsonValue: JSONValue {
        var object: JSONObject = ["type": .string(kind.rawValue), "message": .string(message)]
        if let step { object["step"] = .string(step) }
        return .object(object)
    }

    /// Failures that end the whole run whatever the step's policy (a map that tolerates failures
    /// still stops for these).
    var endsRun: Bool {
        kind == .budgetExceeded || kind == .cancelled || kind == .timeout && step == nil
    }
}
