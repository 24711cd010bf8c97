import SluiceJSON
import Synchronization

/// A way a model's answer goes wrong, as real models' answers do: cut off at the token
/// limit, looping, wrapped in a code fence, with prose around the JSON, a field missing or
/// mistyped, or empty.
public enum Misbehaviour: String, Sendable, Hashable, CaseIterable {
    /// The first half of the answer, with `finish_reason: "length"` / `stop_reason: "max_tokens"`.
    case truncated
    /// The start of the answer, then one span repeated for about 3 KB, cut off at the limit.
    case repetition
    /// The answer inside a Markdown ```` ```json ```` fence.
    case codeFence
    /// A sentence before the answer.
    case leadingProse
    /// The answer, then a sentence after it.
    case trailingProse
    /// Structured answers lose their first required property.
    case missingField
    /// Structured answers get their first required property's value in the wrong type.
    case mistypedField
    /// No text at all.
    case empty
    /// The model declines: OpenAI's `refusal` delta, Anthropic's `stop_reason: "refusal"`.
    case refusal

    /// What a refusing model says.
    public static let refusalText = "I'm sorry, but I can't help with that request."

    /// The span a looping answer repeats.
    public static let loopSpan = "agents, tools, models, benchmarks, "

    /// The answer as this misbehaviour changes it; `cutOff` when it stops at the token limit.
    func apply(to text: String, schema: JSONValue?) -> (text: String, cutOff: Bool) {
        switch self {
        case .truncated:
            return (String(text.prefix(max(1, text.count / 2))), true)
        case .repetition:
            var looping = String(text.prefix(max(1, text.count / 3)))
            while looping.utf8.count < 3200 { looping += Self.loopSpan }
            return (looping, true)
        case .codeFence:
            return ("```json\n" + text + "\n```", false)
        case .leadingProse:
            return ("Here is the answer you asked for:\n\n" + text, false)
        case .trailingProse:
            return (text + "\n\nI hope this helps! Let me know if you need anything else.", false)
        case .missingField, .mistypedField:
            return (changeField(text, schema: schema), false)
        case .empty, .refusal:
            return ("", false)
        }
    }

    private func changeField(_ text: String, schema: JSONValue?) -> String {
        let parsed: JSONValue
        do { parsed = try JSONParser.parse(text) } catch { return text }
        guard var object = parsed.objectValue else { return text }
        let required = schema?["required"]?.arrayValue?.compactMap(\.stringValue) ?? []
        guard let key = required.first(where: { object[$0] != nil }) ?? object.keys.first else { return text }
        if self == .missingField {
            object[key] = nil
        } else {
            object[key] = object[key]?.doubleValue == nil ? .integer(12345) : .string("twelve")
        }
        return JSONValue.object(object).serialized()
    }
}

/// The model services' misbehaviour on request and their own count of what they served.
///
/// ```swift
/// services.modelBehaviour.misbehave([.truncated, .truncated])   // the next two answers
/// services.modelBehaviour.misbehave([.codeFence], whenPromptContains: "Classify")
/// let served = services.modelBehaviour.served                   // calls and tokens
/// ```
public final class ModelBehaviour: Sendable {
    /// What the model services answered: every 200 answer, with the tokens its usage claimed.
    public struct Served: Sendable, Hashable {
        public var calls = 0
        public var inputTokens = 0
        public var outputTokens = 0
    }

    private struct Pending {
        var misbehaviour: Misbehaviour
        var marker: String?
    }

    let streaming: Bool
    private let state = Mutex<(pending: [Pending], served: Served)>(([], Served()))

    init(streaming: Bool) {
        self.streaming = streaming
    }

    /// Queues misbehaviours: each applies to one answer, in order, to the next request whose
    /// messages contain `marker` (any request when nil).
    public func misbehave(_ misbehaviours: [Misbehaviour], whenPromptContains marker: String? = nil) {
        state.withLock { $0.pending += misbehaviours.map { Pending(misbehaviour: $0, marker: marker) } }
    }

    public var served: Served { state.withLock { $0.served } }

    /// Misbehaviours queued and not yet used.
    public var pending: Int { state.withLock { $0.pending.count } }

    func take(prompt: String) -> Misbehaviour? {
        state.withLock { state in
            guard let index = state.pending.firstIndex(where: { $0.marker.map(prompt.contains) ?? true }) else { return nil }
            return state.pending.remove(at: index).misbehaviour
        }
    }

    func count(_ answer: (FakeResponse, served: (input: Int, output: Int)?)) -> FakeResponse {
        if let served = answer.served, answer.0.status == 200 {
            state.withLock { state in
                state.served.calls += 1
                state.served.inputTokens += served.input
                state.served.outputTokens += served.output
            }
        }
        return answer.0
    }
}
