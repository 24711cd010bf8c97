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
public enum TruncationSetting: String, Sendable, Hashable, CaseIterable {
    /// Ask the model to continue where it stopped (at most twice), appending.
    case `continue`
    /// Fail the step.
    case fail
    /// Use the answer as it is, marked `truncated` in `step.completed`.
    case accept
}

extension LLMStep: StepKindDeclaration {
    public static let name = "llm"
    public static let execution = StepExecution.acts
    public static let settings = [
        StepSetting("prompt", .template, .string, required: true),
        StepSetting("system", .template, .string),
        StepSetting("model", .literal, .string),
        StepSetting("schema", .literal, .jsonSchema(what: "output schema")),
        StepSetting("temperature", .literal, .number, bounds: .within(0, 2)),
        StepSetting("max_tokens", .literal, .integer, bounds: .atLeast(1)),
        StepSetting("stream", .literal, .bool),
        StepSetting("on_truncation", .literal, .oneOf(TruncationSetting.allCases.map(\.rawValue))),
        StepSetting("max_repairs", .literal, .integer, bounds: .within(0, 5)),
    ]

    public init?(settings: StepSettings, body: [Step]) {
        guard let prompt = settings.template("prompt") else { return nil }
        self.init(
            prompt: prompt, system: settings.template("system"), model: settings.string("model"),
            schema: settings.literal("schema"), temperature: settings.double("temperature"),
            maxTokens: settings.int("max_tokens"), stream: settings.bool("stream") ?? true,
            onTruncation: settings.string("on_truncation").flatMap(TruncationSetting.init(rawValue:)),
            maxRepairs: settings.int("max_repairs"))
    }

    public var kind: Step.Kind { .llm(self) }

    /// The parsed JSON of the schema (a property it does not declare is a typo), else the text.
    public func outputType(_ typing: OutputTyping) -> CELType {
        schema.map { CELType(jsonSchema: $0).closingDeclaredObjects } ?? .string
    }
}
