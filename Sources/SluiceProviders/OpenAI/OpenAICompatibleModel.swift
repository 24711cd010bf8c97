import SluiceJSON
import Synchronization

/// A model behind an OpenAI-compatible Chat Completions API: OpenAI itself, and Doubao/Ark,
/// DeepSeek, Qwen, vLLM, Ollama and the like, which speak the same wire format.
///
/// Calls `POST {baseURL}/chat/completions` (the base URL includes `/v1`, as in OpenAI's own
/// clients) with `stream: true` and `stream_options.include_usage`, so usage is what the
/// service counted. Structured output asks for `response_format: json_schema`; a service that
/// answers 400 because it lacks json_schema is asked again with `json_object` and the schema in
/// the prompt (and remembered). Either way the output is validated here and repaired as
/// ``ModelRequest/maxRepairs`` allows; `finish_reason: "length"` marks a truncated answer.
///
/// ```swift
/// let model = OpenAICompatibleModel(configuration: .init(providerName: "openai", baseURL: "https://api.openai.com/v1", apiKey: key))
/// let response = try await model.generate(ModelRequest(model: ModelID(provider: "openai", name: "gpt-4o-mini"), prompt: "Hi")) { print($0) }
/// ```
///
/// #### Errors
/// ``ProviderError`` (retryable failures are retried first per ``ProviderRetryPolicy``); `CancellationError`.
public struct OpenAICompatibleModel: ModelProvider {
    public struct Configuration: Sendable {
        /// The name usage and errors are reported under (`openai`, `deepseek`, …).
        public var providerName: String
        /// The API root including the version, e.g. `https://api.openai.com/v1`.
        public var baseURL: String
        /// Sent as `Authorization: Bearer`; nil for services that need none (a local Ollama).
        public var apiKey: String?
        public var timeouts: HTTPTimeouts
        public var retry: ProviderRetryPolicy

        public init(providerName: String = "openai", baseURL: String, apiKey: String?, timeouts: HTTPTimeouts = HTTPTimeouts(), retry: ProviderRetryPolicy = ProviderRetryPolicy()) {
            self.providerName = providerName
            self.baseURL = baseURL
            self.apiKey = apiKey
            self.timeouts = timeouts
            self.retry = retry
        }
    }

    private let runner: ChatModelRunner<OpenAIChatService>

    public init(configuration: Configuration, http: HTTPClient = .shared) {
        runner = ChatModelRunner(
            service: OpenAIChatService(configuration: configuration, adjustments: OpenAIAdjustments()),
            http: http, retry: configuration.retry, learnedMode: LearnedStructuredMode()
        )
    }

    public func generate(_ request: ModelRequest, onDelta: @Sendable (String) async throws -> Void) async throws -> ModelResponse {
        try await runner.generate(request, onDelta: onDelta)
    }
}

/// The Chat Completions wire format.
struct OpenAIChatService: ChatService {
    let configuration: OpenAICompatibleModel.Configuration
    let adjustments: OpenAIAdjustments

    var providerName: String { configuration.providerName }
    var redactor: SecretRedactor { SecretRedactor(secrets: configuration.apiKey.map { [$0] } ?? []) }
    var preferredStructuredMode: StructuredMode { .nativeSchema }

    func httpRequest(for request: ModelRequest, turns: [ChatTurn], mode: StructuredMode) -> HTTPRequest {
        var system = request.system ?? ""
        if mode == .jsonObject, let schema = request.schema {
            system += (system.isEmpty ? "" : "\n\n") + StructuredPrompt.instruction(for: schema)
        }
        var messages: [JSONValue] = []
        if !system.isEmpty { messages.append(["role": "system", "content": .string(system)]) }
        for turn in turns { messages.append(["role": .string(turn.role.rawValue), "content": .string(turn.text)]) }
        var body: JSONObject = [
            "model": .string(request.model.name),
            "messages": .array(messages),
            "stream": true,
            "stream_options": ["include_usage": true],
        ]
        let learned = adjustments.current
        if let temperature = request.temperature, !learned.omitTemperature { body["temperature"] = .double(temperature) }
        if let maxTokens = request.maxTokens {
            body[learned.useMaxCompletionTokens ? "max_completion_tokens" : "max_tokens"] = .integer(Int64(maxTokens))
        }
        switch mode {
        case .nativeSchema:
            if let schema = request.schema {
                body["response_format"] = [
                    "type": "json_schema",
                    "json_schema": ["name": .string(Self.schemaName(request)), "schema": schema, "strict": false],
                ]
            }
        case .jsonObject:
            body["response_format"] = ["type": "json_object"]
        case .none, .forcedTool:
            break
        }
        var headers = [HTTPHeader("Content-Type", "application/json"), HTTPHeader("Accept", "text/event-stream")]
        if let key = configuration.apiKey, !key.isEmpty { headers.append(HTTPHeader("Authorization", "Bearer \(key)")) }
        return HTTPRequest(
            method: .post, url: Self.join(configuration.baseURL, "/chat/completions"), headers: headers,
            body: JSONValue.object(body).jsonBytes, timeouts: configuration.timeouts
        )
    }

    /// json_schema names must match `^[a-zA-Z0-9_-]{1,64}$`.
    static func schemaName(_ request: ModelRequest) -> String {
        let raw = request.metadata.stepID ?? "output"
        let cleaned = String(raw.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") ? $0 : "_" }.prefix(64))
        return cleaned.isEmpty ? "output" : cleaned
    }

    static func join(_ base: String, _ path: String) -> String {
        (base.hasSuffix("/") ? String(base.dropLast()) : base) + path
    }

    /// Services without json_schema say so in a 400 that names `response_format` or `json_schema`.
    func fallback(from mode: StructuredMode, rejection: String) -> StructuredMode? {
        guard mode == .nativeSchema else { return nil }
        let lowered = rejection.lowercased()
        return lowered.contains("response_format") || lowered.contains("json_schema") ? .jsonObject : nil
    }

    func makeDecoder() -> OpenAIStreamDecoder { OpenAIStreamDecoder(provider: providerName, redactor: redactor) }

    /// Reasoning models reject `max_tokens` (wanting `max_completion_tokens`) and any
    /// `temperature` but the default; their 400s name the parameter.
    func adapt(toRejection message: String) -> Bool {
        let lowered = message.lowercased()
        if lowered.contains("max_completion_tokens"), lowered.contains("max_tokens") {
            return adjustments.update { $0.useMaxCompletionTokens = true }
        }
        if lowered.contains("temperature"), lowered.contains("unsupported") || lowered.contains("not support") || lowered.contains("only the default") {
            return adjustments.update { $0.omitTemperature = true }
        }
        return false
    }

    /// A `chat.completion` object: `choices[0].message.content` and `usage`.
    func decodeWhole(_ answer: JSONValue) throws(ProviderError) -> [ChatStreamPiece] {
        if let error = answer["error"] {
            throw ProviderError(.invalidResponse, redactor.redact("the service reported an error: \(error["message"]?.stringValue ?? error.serialized())"), provider: providerName)
        }
        var pieces: [ChatStreamPiece] = []
        if let content = answer["choices"]?[0]?["message"]?["content"]?.stringValue { pieces.append(.text(content)) }
        if let refusal = answer["choices"]?[0]?["message"]?["refusal"]?.stringValue, !refusal.isEmpty { pieces.append(.refusal(refusal)) }
        if let reason = answer["choices"]?[0]?["finish_reason"]?.stringValue { pieces.append(.finish(reason)) }
        if let usage = answer["usage"] {
            pieces.append(.usage(input: usage["prompt_tokens"]?.integerValue.map(Int.init), output: usage["completion_tokens"]?.integerValue.map(Int.init)))
        }
        return pieces + [.done]
    }
}

/// Request adjustments learned from a service's rejections, shared by every call of one model.
final class OpenAIAdjustments: Sendable {
    struct Settings: Sendable, Hashable {
        var useMaxCompletionTokens = false
        var omitTemperature = false
    }

    private let storage = Mutex(Settings())

    var current: Settings { storage.withLock { $0 } }

    /// Applies `change`; true when it changed anything.
    func update(_ change: (inout Settings) -> Void) -> Bool {
        storage.withLock { settings in
            let before = settings
            change(&settings)
            return settings != before
        }
    }
}

/// Reads `chat.completion.chunk` events: `choices[0].delta.content`, a final chunk with
/// `usage` (and empty `choices`), then `data: [DONE]`.
struct OpenAIStreamDecoder: ChatStreamDecoder {
    let provider: String
    let redactor: SecretRedactor

    mutating func decode(_ event: ServerSentEvent) throws(ProviderError) -> [ChatStreamPiece] {
        if event.data == "[DONE]" { return [.done] }
        let chunk: JSONValue
        do {
            chunk = try JSONParser.parse(event.data)
        } catch {
            throw ProviderError(.invalidResponse, "a stream event is not JSON: \(error)", provider: provider)
        }
        if let error = chunk["error"] {
            let message = error["message"]?.stringValue ?? error.serialized()
            throw ProviderError(.transient, redactor.redact("the service reported an error mid-stream: \(message)"), provider: provider)
        }
        var pieces: [ChatStreamPiece] = []
        if let choice = chunk["choices"]?[0] {
            if let content = choice["delta"]?["content"]?.stringValue, !content.isEmpty { pieces.append(.text(content)) }
            if let reason = choice["finish_reason"]?.stringValue { pieces.append(.finish(reason)) }
            if let refusal = choice["delta"]?["refusal"]?.stringValue, !refusal.isEmpty { pieces.append(.refusal(refusal)) }
        }
        if let usage = chunk["usage"], usage.objectValue != nil {
            pieces.append(.usage(input: usage["prompt_tokens"]?.integerValue.map(Int.init), output: usage["completion_tokens"]?.integerValue.map(Int.init)))
        }
        return pieces
    }
}
