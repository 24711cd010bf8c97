import SluiceJSON

/// A Claude model behind Anthropic's Messages API.
///
/// Calls `POST {baseURL}/v1/messages` (the base URL is the service root,
/// `https://api.anthropic.com`) with `x-api-key`, `anthropic-version: 2023-06-01` and
/// `stream: true`. Structured output is a forced tool whose `input_schema` is the step's schema:
/// the tool input streams as `input_json_delta` pieces, is parsed as it arrives, validated at
/// the end and repaired as ``ModelRequest/maxRepairs`` allows; `stop_reason: "max_tokens"`
/// marks a truncated answer. A schema whose root is not an object is wrapped as
/// `{"value": …}` (tool inputs must be objects) and unwrapped again.
///
/// #### Errors
/// ``ProviderError`` (retryable failures, `overloaded_error` included, are retried first per
/// ``ProviderRetryPolicy``); `CancellationError`.
public struct AnthropicModel: ModelProvider {
    public static let apiVersion = "2023-06-01"

    public struct Configuration: Sendable {
        public var providerName: String
        /// The service root, without `/v1`.
        public var baseURL: String
        public var apiKey: String
        /// Anthropic requires `max_tokens`; used when the request sets none.
        public var defaultMaxTokens: Int
        public var timeouts: HTTPTimeouts
        public var retry: ProviderRetryPolicy

        public init(providerName: String = "anthropic", baseURL: String = "https://api.anthropic.com", apiKey: String, defaultMaxTokens: Int = 8192, timeouts: HTTPTimeouts = HTTPTimeouts(), retry: ProviderRetryPolicy = ProviderRetryPolicy()) {
            self.providerName = providerName
            self.baseURL = baseURL
            self.apiKey = apiKey
            self.defaultMaxTokens = defaultMaxTokens
            self.timeouts = timeouts
            self.retry = retry
        }
    }

    private let runner: ChatModelRunner<AnthropicMessagesService>

    public init(configuration: Configuration, http: HTTPClient = .shared) {
        runner = ChatModelRunner(
            service: AnthropicMessagesService(configuration: configuration),
            http: http, retry: configuration.retry, learnedMode: LearnedStructuredMode()
        )
    }

    public func generate(_ request: ModelRequest, onDelta: @Sendable (String) async throws -> Void) async throws -> ModelResponse {
        try await runner.generate(request, onDelta: onDelta)
    }
}

struct AnthropicMessagesService: ChatService {
    static let toolName = "structured_output"
    let configuration: AnthropicModel.Configuration

    var providerName: String { configuration.providerName }
    var redactor: SecretRedactor { SecretRedactor(secrets: [configuration.apiKey]) }
    var preferredStructuredMode: StructuredMode { .forcedTool }
    var defaultMaxTokens: Int? { configuration.defaultMaxTokens }

    func httpRequest(for request: ModelRequest, turns: [ChatTurn], mode: StructuredMode) -> HTTPRequest {
        var body: JSONObject = [
            "model": .string(request.model.name),
            "max_tokens": .integer(Int64(request.maxTokens ?? configuration.defaultMaxTokens)),
            "messages": .array(turns.map { ["role": .string($0.role.rawValue), "content": .string($0.text)] }),
            "stream": true,
        ]
        if let system = request.system, !system.isEmpty { body["system"] = .string(system) }
        if let temperature = request.temperature { body["temperature"] = .double(temperature) }
        if mode != .none, let schema = request.schema {
            body["tools"] = [[
                "name": .string(Self.toolName),
                "description": "Return the result, exactly matching this input schema.",
                "input_schema": Self.objectSchema(schema),
            ]]
            body["tool_choice"] = ["type": "tool", "name": .string(Self.toolName)]
        }
        return HTTPRequest(
            method: .post, url: OpenAIChatService.join(configuration.baseURL, "/v1/messages"),
            headers: [
                HTTPHeader("Content-Type", "application/json"), HTTPHeader("Accept", "text/event-stream"),
                HTTPHeader("x-api-key", configuration.apiKey), HTTPHeader("anthropic-version", AnthropicModel.apiVersion),
            ],
            body: JSONValue.object(body).jsonBytes, timeouts: configuration.timeouts
        )
    }

    static func needsWrapping(_ schema: JSONValue) -> Bool {
        schema["type"]?.stringValue != "object"
    }

    static func objectSchema(_ schema: JSONValue) -> JSONValue {
        guard needsWrapping(schema) else { return schema }
        return ["type": "object", "properties": ["value": schema], "required": ["value"]]
    }

    func unwrap(_ value: JSONValue, schema: JSONValue) -> JSONValue {
        guard Self.needsWrapping(schema), let inner = value["value"] else { return value }
        return inner
    }

    func makeDecoder() -> AnthropicStreamDecoder { AnthropicStreamDecoder(provider: providerName, redactor: redactor) }

    /// A whole `message`: its text blocks, or the forced tool's `input`, and `usage`.
    func decodeWhole(_ answer: JSONValue) throws(ProviderError) -> [ChatStreamPiece] {
        if answer["type"] == "error" {
            throw ProviderError(.invalidResponse, redactor.redact("the service reported an error: \(answer["error"]?["message"]?.stringValue ?? answer.serialized())"), provider: providerName)
        }
        var pieces: [ChatStreamPiece] = []
        for block in answer["content"]?.arrayValue ?? [] {
            if block["type"] == "text", let text = block["text"]?.stringValue { pieces.append(.text(text)) }
            if block["type"] == "tool_use", let input = block["input"] { pieces.append(.text(input.serialized())) }
        }
        if let reason = answer["stop_reason"]?.stringValue { pieces.append(.finish(reason)) }
        let usage = answer["usage"]
        pieces.append(.usage(input: usage?["input_tokens"]?.integerValue.map(Int.init), output: usage?["output_tokens"]?.integerValue.map(Int.init)))
        return pieces + [.done]
    }
}

/// Reads Messages stream events: `message_start` (input usage), `content_block_delta`
/// (`text_delta` or `input_json_delta`), `message_delta` (output usage so far), `message_stop`,
/// `ping`, and `error`.
struct AnthropicStreamDecoder: ChatStreamDecoder {
    let provider: String
    let redactor: SecretRedactor

    mutating func decode(_ event: ServerSentEvent) throws(ProviderError) -> [ChatStreamPiece] {
        if event.type == "ping" { return [] }
        let payload: JSONValue
        do {
            payload = try JSONParser.parse(event.data)
        } catch {
            throw ProviderError(.invalidResponse, "a stream event is not JSON: \(error)", provider: provider)
        }
        let type = payload["type"]?.stringValue ?? event.type
        switch type {
        case "message_start":
            let usage = payload["message"]?["usage"]
            let input = [usage?["input_tokens"], usage?["cache_creation_input_tokens"], usage?["cache_read_input_tokens"]]
                .compactMap { $0?.integerValue }.reduce(0, +)
            return [.usage(input: Int(input), output: usage?["output_tokens"]?.integerValue.map(Int.init))]
        case "content_block_delta":
            let delta = payload["delta"]
            let text = delta?["text"]?.stringValue ?? delta?["partial_json"]?.stringValue ?? ""
            return text.isEmpty ? [] : [.text(text)]
        case "message_delta":
            // Output tokens so far (cumulative); newer API versions repeat the input count here.
            let usage = payload["usage"]
            let input = usage?["input_tokens"]?.integerValue.map { base in
                Int(base + (usage?["cache_creation_input_tokens"]?.integerValue ?? 0) + (usage?["cache_read_input_tokens"]?.integerValue ?? 0))
            }
            var pieces: [ChatStreamPiece] = [.usage(input: input, output: usage?["output_tokens"]?.integerValue.map(Int.init))]
            if let reason = payload["delta"]?["stop_reason"]?.stringValue { pieces.append(.finish(reason)) }
            return pieces
        case "message_stop":
            return [.done]
        case "error":
            let kind = payload["error"]?["type"]?.stringValue ?? "error"
            let message = payload["error"]?["message"]?.stringValue ?? event.data
            let retryable = kind == "overloaded_error" || kind == "api_error" || kind == "rate_limit_error"
            throw ProviderError(retryable ? .transient : .invalidResponse, redactor.redact("the service reported \(kind) mid-stream: \(message)"), provider: provider)
        default:
            return []
        }
    }
}
