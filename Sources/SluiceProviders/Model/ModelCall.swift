/// One call a model service answered, as reported through ``ModelRequest/onCall``: what it
/// cost and what became of its answer. A request can make several (a structured answer's
/// repairs, a cut-off text's continuations, a retried stream), and each is paid for.
public struct ModelCall: Sendable, Hashable {
    /// What became of the call's answer.
    public enum Outcome: String, Sendable, Hashable {
        /// Used as it was (a free-text answer, possibly marked truncated, or valid structured output).
        case accepted
        /// Valid structured output that came after at least one invalid answer.
        case repaired
        /// Structured output that was not JSON, did not match the schema, or looped.
        case invalid
        /// Stopped at its token limit and not used as it was (continued, repaired or failed).
        case truncated
        /// The stream broke off before the service finished (the call may be retried).
        case interrupted
        /// The run stopped waiting (cancelled) while the answer streamed.
        case cancelled
    }

    public var usage: ModelUsage
    /// Which attempt of the request this was, from 1 (a repair or continuation adds one; a
    /// retried stream keeps its attempt's number).
    public var attempt: Int
    public var outcome: Outcome
    /// Whether the answer stopped at its token limit (or was cut off because it looped).
    public var truncated: Bool
    /// Why the service stopped (`stop`, `length`, `end_turn`, `max_tokens`, or `repetition`
    /// when Sluice cut a looping answer off); nil when unknown.
    public var finishReason: String?
    /// What was wrong with an invalid answer, briefly.
    public var problem: String?
    /// Set by a response cache wrapping the provider (`miss`).
    public var cache: String?

    public init(
        usage: ModelUsage, attempt: Int, outcome: Outcome, truncated: Bool = false, finishReason: String? = nil,
        problem: String? = nil, cache: String? = nil
    ) {
        self.usage = usage
        self.attempt = attempt
        self.outcome = outcome
        self.truncated = truncated
        self.finishReason = finishReason
        self.problem = problem
        self.cache = cache
    }
}

/// What a free-text answer cut off at its token limit gets (a plan's `on_truncation`).
public enum TruncationHandling: Sendable, Hashable {
    /// Ask the model to go on from where it stopped and append, at most this many times; an
    /// answer still cut off after that is used, marked truncated.
    case `continue`(maxContinuations: Int)
    /// Fail the call.
    case fail
    /// Use the answer as it is, marked truncated.
    case accept

    /// Two continuations triple the room an answer has, which covers a limit set a little too
    /// low without paying indefinitely for one that loops.
    public static let defaultContinuations = 2
}
