import SluiceJSON
import Synchronization

/// Runs model calls over one ``ChatService``: streaming, retries, and structured output
/// (parsed as it streams, validated at the end, repaired once).
struct ChatModelRunner<Service: ChatService>: Sendable {
    let service: Service
    let http: HTTPClient
    let retry: ProviderRetryPolicy
    /// A structured mode learned from a rejection (e.g. a service without json_schema), shared
    /// by every call so only the first one pays for the discovery.
    let learnedMode: LearnedStructuredMode

    private var provider: String { service.providerName }

    func generate(_ request: ModelRequest, onDelta: @Sendable (String) async throws -> Void) async throws -> ModelResponse {
        let turns = [ChatTurn(role: .user, text: request.prompt)]
        guard let schema = request.schema else {
            let attempt = try await call(request, turns: turns, mode: .none, onDelta: onDelta)
            return ModelResponse(text: attempt.text, usage: attempt.usage)
        }
        return try await generateStructured(request, schema: schema, turns: turns, onDelta: onDelta)
    }

    private func generateStructured(
        _ request: ModelRequest, schema: JSONValue, turns firstTurns: [ChatTurn],
        onDelta: @Sendable (String) async throws -> Void
    ) async throws -> ModelResponse {
        let validator: JSONSchema
        do {
            validator = try JSONSchema(schema)
        } catch {
            throw ProviderError(.invalidRequest, "\(where_(request))the output schema is not a valid JSON Schema: \(error)", provider: provider)
        }
        var turns = firstTurns
        var usage = ModelUsage(provider: provider, model: request.model.name, inputTokens: 0, outputTokens: 0)
        for round in 1...2 {
            let attempt = try await callWithFallback(request, turns: turns, onDelta: onDelta)
            usage.inputTokens += attempt.usage.inputTokens
            usage.outputTokens += attempt.usage.outputTokens
            let problems: [String]
            switch attempt.json {
            case .success(let value):
                let instance = service.unwrap(value, schema: schema)
                let errors = validator.validate(instance)
                if errors.isEmpty { return ModelResponse(text: instance.serialized(), usage: usage) }
                problems = errors.prefix(20).map { "\($0.instancePath.description.isEmpty ? "/" : $0.instancePath.description): \($0.message)" }
            case .failure(let parseError):
                problems = ["the reply is not JSON: \(parseError)"]
            case nil:
                problems = ["the reply is not JSON: it is empty"]
            }
            if round == 2 {
                throw ProviderError(
                    .invalidResponse,
                    "\(where_(request))the structured output does not match the schema, even after one repair: " + problems.joined(separator: "; "),
                    provider: provider
                )
            }
            turns += [ChatTurn(role: .assistant, text: attempt.text), ChatTurn(role: .user, text: StructuredPrompt.repair(errors: problems))]
        }
        throw ProviderError(.invalidResponse, "\(where_(request))no structured output", provider: provider)
    }

    private func where_(_ request: ModelRequest) -> String {
        request.metadata.stepID.map { "step '\($0)': " } ?? ""
    }

    /// One structured call, switching to the service's fallback mode if it rejects the first.
    private func callWithFallback(_ request: ModelRequest, turns: [ChatTurn], onDelta: @Sendable (String) async throws -> Void) async throws -> ChatAttempt {
        let mode = learnedMode.value ?? service.preferredStructuredMode
        do {
            return try await call(request, turns: turns, mode: mode, onDelta: onDelta)
        } catch let error as ProviderError where error.code == .invalidRequest {
            guard let fallback = service.fallback(from: mode, rejection: error.message) else { throw error }
            learnedMode.value = fallback
            return try await call(request, turns: turns, mode: fallback, onDelta: onDelta)
        }
    }

    /// One call with retries. A failure after text has been handed to `onDelta` is not retried:
    /// the caller has already shown that text, and a second stream would repeat it.
    private func call(_ request: ModelRequest, turns: [ChatTurn], mode: StructuredMode, onDelta: @Sendable (String) async throws -> Void) async throws -> ChatAttempt {
        var adaptations = 0
        while true {
            do {
                return try await retry.run(provider: provider, metadata: request.metadata, observer: request.onRetry) {
                    try await streamOnce(request, turns: turns, mode: mode, onDelta: onDelta)
                }
            } catch let interrupted as InterruptedStream {
                throw interrupted.error
            } catch let error as ProviderError where error.code == .invalidRequest && adaptations < 3 {
                // A rejected parameter: adjust (and remember) once per kind, then send again.
                guard service.adapt(toRejection: error.message) else { throw error }
                adaptations += 1
            }
        }
    }

    private struct InterruptedStream: Error {
        var error: ProviderError
    }

    private func streamOnce(_ request: ModelRequest, turns: [ChatTurn], mode: StructuredMode, onDelta: @Sendable (String) async throws -> Void) async throws -> ChatAttempt {
        let httpRequest = service.httpRequest(for: request, turns: turns, mode: mode)
        let response: HTTPStreamingResponse
        do {
            response = try await http.stream(httpRequest)
        } catch let error as HTTPClientError {
            throw ProviderError.from(error, provider: provider, redactor: service.redactor)
        }
        guard response.head.isSuccess else {
            var body: [UInt8] = []
            do {
                for try await chunk in response.body where body.count < 64 << 10 { body += chunk }
            } catch let error as HTTPClientError {
                throw ProviderError.from(error, provider: provider, redactor: service.redactor)
            }
            throw ProviderError.from(status: response.head.status, head: response.head, body: body, provider: provider, redactor: service.redactor)
        }
        var state = StreamState(structured: mode != .none)
        if !(response.head.value(for: "content-type") ?? "text/event-stream").lowercased().contains("event-stream") {
            // A service (or gateway) that ignored `stream: true` sent the whole answer as JSON.
            return try await readWhole(response, state: &state, request: request, turns: turns, onDelta: onDelta)
        }
        var reader = ServerSentEventReader()
        var decoder = service.makeDecoder()
        do {
            reading: for try await chunk in response.body {
                for event in reader.feed(chunk) {
                    for piece in try decoder.decode(event) {
                        switch piece {
                        case .text(let text):
                            guard state.append(text) else { break reading }
                            if request.stream {
                                state.delivered = true
                                try await onDelta(text)
                            }
                        case .usage(let input, let output):
                            if let input { state.inputTokens = input }
                            if let output { state.outputTokens = output }
                        case .done:
                            state.done = true
                        }
                    }
                }
            }
        } catch let error as HTTPClientError {
            let failure = ProviderError.from(error, provider: provider, redactor: service.redactor)
            throw state.delivered ? InterruptedStream(error: failure) as any Error : failure
        } catch let error as ProviderError {
            throw state.delivered ? InterruptedStream(error: error) as any Error : error
        }
        try Task.checkCancellation()
        if !state.done && state.parseFailure == nil {
            let failure = ProviderError(.transient, "the stream ended before the service finished its answer", provider: provider)
            throw state.delivered ? InterruptedStream(error: failure) as any Error : failure
        }
        return state.attempt(provider: provider, model: request.model.name, prompt: turns.map(\.text).joined())
    }
}

extension ChatModelRunner {
    fileprivate func readWhole(
        _ response: HTTPStreamingResponse, state: inout StreamState, request: ModelRequest, turns: [ChatTurn],
        onDelta: @Sendable (String) async throws -> Void
    ) async throws -> ChatAttempt {
        var body: [UInt8] = []
        do {
            for try await chunk in response.body { body += chunk }
        } catch let error as HTTPClientError {
            throw ProviderError.from(error, provider: provider, redactor: service.redactor)
        }
        let answer: JSONValue
        do {
            answer = try JSONParser.parse(body)
        } catch {
            throw ProviderError(.invalidResponse, "the answer is neither an event stream nor JSON: \(error)", provider: provider)
        }
        for piece in try service.decodeWhole(answer) {
            switch piece {
            case .text(let text):
                _ = state.append(text)
                if request.stream { try await onDelta(text) }
            case .usage(let input, let output):
                if let input { state.inputTokens = input }
                if let output { state.outputTokens = output }
            case .done:
                state.done = true
            }
        }
        return state.attempt(provider: provider, model: request.model.name, prompt: turns.map(\.text).joined())
    }
}

/// The result of one streamed call.
struct ChatAttempt {
    var text: String
    var usage: ModelUsage
    /// For structured calls: the parsed value, or why it is not JSON; nil for free text or an empty reply.
    var json: Result<JSONValue, JSONParseError>?
}

/// What a stream produced so far.
private struct StreamState {
    var text = ""
    var inputTokens: Int?
    var outputTokens: Int?
    var done = false
    var delivered = false
    let parser: JSONIncrementalParser?
    var parseFailure: JSONParseError?

    init(structured: Bool) {
        parser = structured ? JSONIncrementalParser() : nil
    }

    /// Adds `piece`; false when the structured output can no longer be JSON (stop reading).
    mutating func append(_ piece: String) -> Bool {
        text += piece
        guard let parser, parseFailure == nil else { return true }
        do {
            try parser.feed(Array(piece.utf8))
            return true
        } catch {
            parseFailure = error
            return false
        }
    }

    func attempt(provider: String, model: String, prompt: String) -> ChatAttempt {
        // Usage is what the service reported; a service that reports none gets an estimate
        // (four characters a token) rather than a free call.
        let usage = ModelUsage(
            provider: provider, model: model,
            inputTokens: inputTokens ?? (prompt.count + 3) / 4,
            outputTokens: outputTokens ?? (text.count + 3) / 4
        )
        guard let parser else { return ChatAttempt(text: text, usage: usage, json: nil) }
        if let parseFailure { return ChatAttempt(text: text, usage: usage, json: .failure(parseFailure)) }
        if text.allSatisfy(\.isWhitespace) { return ChatAttempt(text: text, usage: usage, json: nil) }
        do {
            return ChatAttempt(text: text, usage: usage, json: .success(try parser.finish()))
        } catch {
            return ChatAttempt(text: text, usage: usage, json: .failure(error))
        }
    }
}

/// The structured mode learned for one provider instance.
final class LearnedStructuredMode: Sendable {
    private let storage = Mutex<StructuredMode?>(nil)

    var value: StructuredMode? {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }
}
