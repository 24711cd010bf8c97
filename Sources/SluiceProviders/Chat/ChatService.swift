import SluiceJSON

/// One message of the conversation sent to a chat model.
struct ChatTurn: Sendable {
    enum Role: String, Sendable { case user, assistant }
    var role: Role
    var text: String
}

/// How a call asks for structured output.
enum StructuredMode: Sendable, Hashable {
    /// Free text.
    case none
    /// The service enforces the schema (OpenAI `response_format: json_schema`).
    case nativeSchema
    /// The service only promises JSON (OpenAI `json_object`); the schema goes in the prompt.
    case jsonObject
    /// A forced tool whose input is the output (Anthropic).
    case forcedTool
}

/// What a stream decoder got out of one event.
enum ChatStreamPiece: Sendable, Hashable {
    case text(String)
    /// Token counts as reported so far; nil for a count the event did not carry.
    case usage(input: Int?, output: Int?)
    /// Why the service stopped (`finish_reason`, `stop_reason`).
    case finish(String)
    /// The model declined to answer (OpenAI's `refusal`); the call is still paid for.
    case refusal(String)
    case done
}

/// The wire format of one chat API: how to build the request, how to read its stream.
protocol ChatService: Sendable {
    associatedtype Decoder: ChatStreamDecoder
    var providerName: String { get }
    var redactor: SecretRedactor { get }
    /// The structured mode to use first.
    var preferredStructuredMode: StructuredMode { get }
    func httpRequest(for request: ModelRequest, turns: [ChatTurn], mode: StructuredMode) -> HTTPRequest
    func makeDecoder() -> Decoder
    /// The mode to fall back to when the service rejected `mode` with this 400 message.
    func fallback(from mode: StructuredMode, rejection: String) -> StructuredMode?
    /// The instance the step gets out of the JSON the model produced (undoes any wrapping).
    func unwrap(_ value: JSONValue, schema: JSONValue) -> JSONValue
    /// Adjusts future requests to a 400 that rejects a parameter (e.g. `max_tokens` on a model
    /// that wants `max_completion_tokens`); true when something changed and the call is worth
    /// sending again.
    func adapt(toRejection message: String) -> Bool
    /// The pieces of a whole (non-streamed) JSON answer, for services that ignore `stream`.
    func decodeWhole(_ answer: JSONValue) throws(ProviderError) -> [ChatStreamPiece]
    /// The answer limit used when a request sets none (nil: the service's own, unknown).
    var defaultMaxTokens: Int? { get }
}

protocol ChatStreamDecoder: Sendable {
    mutating func decode(_ event: ServerSentEvent) throws(ProviderError) -> [ChatStreamPiece]
}

extension ChatService {
    func fallback(from mode: StructuredMode, rejection: String) -> StructuredMode? { nil }
    func unwrap(_ value: JSONValue, schema: JSONValue) -> JSONValue { value }
    func adapt(toRejection message: String) -> Bool { false }
    var defaultMaxTokens: Int? { nil }
}

/// The finish reasons that mean "stopped at the token limit": OpenAI's `length`, Anthropic's `max_tokens`.
func isTruncation(_ reason: String?) -> Bool {
    reason == "length" || reason == "max_tokens"
}

/// The instruction that carries the schema when the service cannot enforce it.
enum StructuredPrompt {
    static func instruction(for schema: JSONValue) -> String {
        "Reply with only a JSON value (no prose, no code fences) that is valid against this JSON Schema:\n"
            + schema.serialized()
    }

    static func repair(errors: [String]) -> String {
        "That reply is not valid against the JSON Schema:\n"
            + errors.map { "- " + $0 }.joined(separator: "\n")
            + "\nReply again with only the corrected JSON."
    }

    /// Added to the prompt after an answer that was cut off or looped (that answer itself is
    /// not sent back: it is long and of no use to the model).
    static func shorter(looped: Bool) -> String {
        (looped
            ? "Your previous answer kept repeating itself and was cut off."
            : "Your previous answer was cut off at its length limit before the JSON was complete.")
            + " Answer again with complete, valid JSON only, and keep it brief: short strings, short lists, no repetition."
    }

    /// Asks for the rest of an answer that stopped at its token limit.
    static let continuation =
        "Your answer was cut off at its length limit. Continue it exactly where it stopped, without repeating anything and without any preamble."
}
