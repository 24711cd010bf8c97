public import SluiceJSON

/// A model named as plans name it: `provider:model`, e.g. `openai:gpt-4o-mini`.
public struct ModelID: Sendable, Hashable, CustomStringConvertible {
    public var provider: String
    public var name: String

    public init(provider: String, name: String) {
        self.provider = provider
        self.name = name
    }

    /// Parses `provider:model`; the model part may itself contain colons (`ollama:llama3:8b`).
    /// Returns nil when either part is empty or there is no colon.
    public init?(parsing text: String) {
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let provider = String(text[..<colon])
        let name = String(text[text.index(after: colon)...])
        guard !provider.isEmpty, !name.isEmpty else { return nil }
        self.init(provider: provider, name: name)
    }

    public var description: String { "\(provider):\(name)" }
}

/// One model call: what to send, and why (for simulated models, logs and usage).
public struct ModelRequest: Sendable {
    /// Why the engine calls the model; the simulated model answers each purpose differently.
    public enum Purpose: String, Sendable, Hashable {
        /// Free text (a section, a summary).
        case text
        /// JSON that must match ``ModelRequest/schema``.
        case structured
        /// A quality gate's judge: JSON scores per dimension plus feedback.
        case judge
    }

    /// Where in the run the call happens.
    public struct Metadata: Sendable, Hashable {
        public var purpose: Purpose
        public var stepID: String?
        /// The `map` item index, when inside a map body.
        public var item: Int?
        /// The loop round (from 1), when inside a loop body.
        public var iteration: Int?

        public init(purpose: Purpose, stepID: String? = nil, item: Int? = nil, iteration: Int? = nil) {
            self.purpose = purpose
            self.stepID = stepID
            self.item = item
            self.iteration = iteration
        }
    }

    public var model: ModelID
    public var system: String?
    public var prompt: String
    /// The JSON Schema of structured output; nil for free text.
    public var schema: JSONValue?
    public var temperature: Double?
    public var maxTokens: Int?
    /// Whether the caller wants text deltas as they arrive (it always gets the whole text at the end).
    public var stream: Bool
    public var metadata: Metadata
    /// Told of each retry the provider makes (a 429, a 5xx, a dropped connection), so the
    /// engine can report it as `step.retrying`. Carried by the request rather than a task-local
    /// value: pushing a task-local around every step crashed release builds (Swift 6.3).
    public var onRetry: (@Sendable (ProviderRetryInfo) -> Void)?
    /// Told of every call the service answered (repairs, continuations and calls cut short
    /// included), so each one is counted and billed; see ``ModelCall``. A provider that makes
    /// one call per request may leave it untold: the caller then counts the response.
    public var onCall: (@Sendable (ModelCall) -> Void)?
    /// Asked before each HTTP request a provider sends for this request; its answer goes out
    /// as the W3C `traceparent` header (the model-call span of a traced run). Carried by the
    /// request, not a task-local, for the reason given at ``onRetry``. Nil: no header.
    public var traceparent: (@Sendable () -> String?)?
    /// What a free-text answer cut off at its token limit gets (ignored for structured output).
    public var onTruncation: TruncationHandling = .continue(maxContinuations: TruncationHandling.defaultContinuations)
    /// How many further attempts an invalid, truncated or looping structured answer gets (see
    /// ``ModelCall/Outcome``); each one changes the request (``RepairPlan``).
    public var maxRepairs: Int = ModelRequest.defaultMaxRepairs

    /// Two repairs: a small model often fixes a missing field on the first and a truncation on the second.
    public static let defaultMaxRepairs = 2

    public init(
        model: ModelID, system: String? = nil, prompt: String, schema: JSONValue? = nil,
        temperature: Double? = nil, maxTokens: Int? = nil, stream: Bool = true,
        metadata: Metadata = Metadata(purpose: .text)
    ) {
        self.model = model
        self.system = system
        self.prompt = prompt
        self.schema = schema
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.stream = stream
        self.metadata = metadata
    }
}

/// Tokens one model call consumed, as the provider reported them (or estimated them).
public struct ModelUsage: Sendable, Hashable {
    public var provider: String
    public var model: String
    public var inputTokens: Int
    public var outputTokens: Int

    public init(provider: String, model: String, inputTokens: Int, outputTokens: Int) {
        self.provider = provider
        self.model = model
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
    }

    public var totalTokens: Int { inputTokens + outputTokens }
}

/// The end of a model call: the whole text (JSON text for structured calls) and its usage.
public struct ModelResponse: Sendable {
    public var text: String
    public var usage: ModelUsage
    /// Where the answer came from when a store answered instead of the model: `hit` (the
    /// response cache), `miss` (asked the model, then cached), `checkpoint` (a resumed run's
    /// saved call). Nil for a plain call. Shown as `cache` in `model.usage`.
    public var cache: String?
    /// Whether the (free-text) answer stopped at its token limit and was used as it was.
    public var truncated: Bool
    /// Why the service stopped the last call, as it said it (`stop`, `length`, `end_turn`,
    /// `max_tokens`, …); nil when unknown.
    public var finishReason: String?
    /// How many calls the provider already told ``ModelRequest/onCall`` of (their usage is
    /// counted); 0 when it told of none, and the caller counts ``usage`` as one call.
    public var callsReported = 0

    public init(text: String, usage: ModelUsage, cache: String? = nil, truncated: Bool = false, finishReason: String? = nil) {
        self.text = text
        self.usage = usage
        self.cache = cache
        self.truncated = truncated
        self.finishReason = finishReason
    }
}

/// A language model service (OpenAI-compatible, Anthropic, the offline simulation, test fakes).
///
/// The call runs in the caller's task: text deltas are handed to `onDelta` as they arrive, and
/// the call returns the whole text with its usage. Cancelling the caller's task must end the
/// call promptly with `CancellationError` (close the connection, stop sleeping).
///
/// ```swift
/// let response = try await model.generate(request) { delta in print(delta, terminator: "") }
/// print(response.usage.outputTokens)
/// ```
///
/// #### Errors
/// ``ProviderError`` for service failures (check ``ProviderError/isRetryable``),
/// `CancellationError` when the task was cancelled.
public protocol ModelProvider: Sendable {
    func generate(
        _ request: ModelRequest,
        onDelta: @Sendable (String) async throws -> Void
    ) async throws -> ModelResponse
}

/// Sends each request to the provider registered for its `provider` prefix.
public struct ModelRouter: ModelProvider {
    private var providers: [String: any ModelProvider]
    /// Used for any provider name not registered (e.g. the simulated model under `--offline`).
    private var fallback: (any ModelProvider)?

    public init(providers: [String: any ModelProvider] = [:], fallback: (any ModelProvider)? = nil) {
        self.providers = providers
        self.fallback = fallback
    }

    public func generate(
        _ request: ModelRequest,
        onDelta: @Sendable (String) async throws -> Void
    ) async throws -> ModelResponse {
        try await provider(for: request).generate(request, onDelta: onDelta)
    }

    /// Not inlined, so the frame waiting on the call has no room for the error.
    @inline(never)
    private func provider(for request: ModelRequest) throws(ProviderError) -> any ModelProvider {
        guard let provider = providers[request.model.provider] ?? fallback else {
            throw ProviderError(
                .unknownProvider,
                "no model provider '\(request.model.provider)' is configured (for model '\(request.model)')",
                provider: request.model.provider
            )
        }
        return provider
    }
}
