public import SluiceJSON

/// A model call: a prompt in, text (or JSON matching `schema`) out, streamed.
public struct LLMStep: Sendable {
    public var prompt: TemplateText
    public var system: TemplateText?
    /// A name from the plan's `models`, or `provider:model`; `nil` means the default model.
    public var model: String?
    /// The JSON Schema of structured output; `nil` for free text.
    public var schema: JSONValue?
    public var temperature: Double?
    public var maxTokens: Int?
    public var stream: Bool
    /// What a free-text answer cut off at its token limit gets; nil for the default (`continue`).
    public var onTruncation: TruncationSetting?
    /// How many further attempts an invalid or truncated structured answer gets; nil for the default.
    public var maxRepairs: Int?
}

/// An `llm` step's `on_truncation`.
public enum TruncationSetting: String, Sendable, Hashable {
    /// Ask the model to continue where it stopped (at most twice), appending.
    case `continue`
    /// Fail the step.
    case fail
    /// Use the answer as it is, marked `truncated` in `step.completed`.
    case accept
}

/// Web or corpus search for one query or a list of queries.
public struct SearchStep: Sendable {
    /// A value yielding a string (`query`) or a list of strings (`queries`).
    public var queries: PlanValue
    public var isList: Bool
    public var provider: String?
    public var maxResults: NumberSetting?
    public var days: NumberSetting?
}

/// Fetches pages and turns them into readable text.
public struct FetchStep: Sendable {
    /// A value yielding a URL (`url`) or a list of URLs (`urls`).
    public var urls: PlanValue
    public var isList: Bool
    public var maxBytes: Int?
}

/// Loads a document (a local file or a URL) and splits it into chunks.
public struct LoadStep: Sendable {
    public var path: PlanValue
    public var chunkSize: Int
    public var chunkOverlap: Int
}

/// Runs its body once per element of a list, a few at a time; results keep the list's order.
public struct MapStep: Sendable {
    public var over: PlanExpression
    /// The name the body uses for the current element (`item` unless `as` says otherwise).
    public var itemName: String
    public var concurrency: NumberSetting
    public var tolerateFailures: Bool
    public var steps: [Step]
    /// Each element's result; `nil` means the last body step's output.
    public var result: PlanValue?
}

/// Repeats its body until `until` holds or `max_iterations` is spent, keeping the best round.
public struct LoopStep: Sendable {
    public var steps: [Step]
    public var until: PlanExpression?
    public var maxIterations: NumberSetting
}

/// A quality gate: a judge scores rubric dimensions; the weighted score meets a threshold or not.
public struct GateStep: Sendable {
    public struct Dimension: Sendable, Hashable {
        public var name: String
        public var weight: Double
        public var description: String?
    }

    public var prompt: TemplateText
    public var model: String?
    public var dimensions: [Dimension]
    public var threshold: NumberSetting
    public var scaleMin: Double
    public var scaleMax: Double
}

/// Asks a person to approve before going on.
public struct ConfirmStep: Sendable {
    public enum Fallback: String, Sendable {
        /// Fail the run when nobody can be asked.
        case fail
        /// Go on as if approved when nobody can be asked.
        case approve
    }

    public var details: PlanValue?
    /// When true, the step approves without asking (e.g. `inputs.auto_confirm`).
    public var autoApprove: PlanExpression?
    public var fallback: Fallback
}

/// Renders a Mustache template to a string (e.g. the final report).
public struct TemplateStep: Sendable {
    public var template: TemplateText
}

/// Computes a value.
public struct SetStep: Sendable {
    public var value: PlanValue
}

/// Runs another plan with its own inputs.
public struct CallStep: Sendable {
    /// The called plan's name.
    public var plan: String
    public var inputs: PlanValue?
}

/// Checks each element of a list against a JSON Schema, splitting valid elements from
/// rejected ones with the reasons: the schema can come from the run (an input), so it is a
/// value evaluated when the step runs.
public struct ValidateStep: Sendable {
    /// An expression yielding the list to check.
    public var items: PlanExpression
    /// A value yielding the JSON Schema each element must satisfy.
    public var schema: PlanValue
}
