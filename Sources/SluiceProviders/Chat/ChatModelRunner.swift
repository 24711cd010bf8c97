import SluiceJSON
import Synchronization

/// Runs model calls over one ``ChatService``: streaming, retries, truncated text (continued
/// per ``ModelRequest/onTruncation``), looping answers (cut off), and structured output
/// (parsed as it streams, validated at the end, repaired per ``RepairPlan``). Every call the
/// service answers is told to ``ModelRequest/onCall``.
struct ChatModelRunner<Service: ChatService>: Sendable {
    let service: Service
    let http: HTTPClient
    let retry: ProviderRetryPolicy
    /// A structured mode learned from a rejection (e.g. a service without json_schema), shared
    /// by every call so only the first one pays for the discovery.
    let learnedMode: LearnedStructuredMode

    private var provider: String { service.providerName }

    func generate(_ request: ModelRequest, onDelta: @Sendable (String) async throws -> Void) async throws -> ModelResponse {
        let told = CallCount()
        var counted = request
        counted.onCall = { [report = request.onCall] call in
            told.add()
            report?(call)
        }
        var response =
            if let schema = request.schema {
                try await generateStructured(counted, schema: schema, onDelta: onDelta)
            } else {
                try await generateText(counted, onDelta: onDelta)
            }
        response.callsReported = told.value
        return response
    }

    /// Free text, continued or failed per ``ModelRequest/onTruncation`` when it stops at its
    /// token limit. A looping answer is cut off and fails the call (it is paid for up to there).
    private func generateText(_ request: ModelRequest, onDelta: @Sendable (String) async throws -> Void) async throws -> ModelResponse {
        var turns = [ChatTurn(role: .user, text: request.prompt)]
        var text = ""
        var usage = ModelUsage(provider: provider, model: request.model.name, inputTokens: 0, outputTokens: 0)
        var number = 1
        while true {
            let attempt = try await call(request, turns: turns, mode: .none, attempt: number, onDelta: onDelta)
            usage.inputTokens += attempt.usage.inputTokens
            usage.outputTokens += attempt.usage.outputTokens
            text += attempt.text
            try refuse(request, attempt, number: number)
            if attempt.looped {
                report(request, attempt, number: number, outcome: .invalid, problem: "the answer kept repeating itself")
                throw ProviderError(.invalidResponse, "\(where_(request))the answer kept repeating itself and was cut off", provider: provider)
            }
            guard attempt.truncated else {
                report(request, attempt, number: number, outcome: .accepted)
                return ModelResponse(text: text, usage: usage, finishReason: attempt.finishReason)
            }
            switch request.onTruncation {
            case .continue(let most) where number <= most:
                report(request, attempt, number: number, outcome: .truncated)
                turns += [ChatTurn(role: .assistant, text: attempt.text), ChatTurn(role: .user, text: StructuredPrompt.continuation)]
                number += 1
            case .fail:
                report(request, attempt, number: number, outcome: .truncated)
                throw ProviderError(
                    .invalidResponse, "\(where_(request))the answer stopped at its token limit (on_truncation: fail)", provider: provider)
            case .accept, .continue:
                report(request, attempt, number: number, outcome: .accepted)
                return ModelResponse(text: text, usage: usage, truncated: true, finishReason: attempt.finishReason)
            }
        }
    }

    /// Counts a refused call and fails the request: asking again would be refused again.
    func refuse(_ request: ModelRequest, _ attempt: ChatAttempt, number: Int) throws(ProviderError) {
        guard let refusal = attempt.refusal else { return }
        let said = refusal.isEmpty ? "" : ": " + service.redactor.redact(String(refusal.prefix(300)))
        report(request, attempt, number: number, outcome: .invalid, problem: "the model refused" + said)
        throw ProviderError(.invalidResponse, "\(where_(request))the model refused" + said, provider: provider)
    }

    func where_(_ request: ModelRequest) -> String {
        request.metadata.stepID.map { "step '\($0)': " } ?? ""
    }

    /// Tells the request's ``ModelRequest/onCall`` about one answered call.
    func report(_ request: ModelRequest, _ attempt: ChatAttempt, number: Int, outcome: ModelCall.Outcome, problem: String? = nil) {
        request.onCall?(
            ModelCall(
                usage: attempt.usage, attempt: number, outcome: outcome, truncated: attempt.truncated,
                finishReason: attempt.reportedReason, problem: problem))
    }

    /// One structured call, switching to the service's fallback mode if it rejects the first.
    func callWithFallback(_ request: ModelRequest, turns: [ChatTurn], attempt: Int, onDelta: @Sendable (String) async throws -> Void) async throws -> ChatAttempt {
        let mode = learnedMode.value ?? service.preferredStructuredMode
        do {
            return try await call(request, turns: turns, mode: mode, attempt: attempt, onDelta: onDelta)
        } catch let error as ProviderError where error.code == .invalidRequest {
            guard let fallback = service.fallback(from: mode, rejection: error.message) else { throw error }
            learnedMode.value = fallback
            return try await call(request, turns: turns, mode: fallback, attempt: attempt, onDelta: onDelta)
        }
    }

    /// One call with retries. A failure after text has been handed to `onDelta` is not retried:
    /// the caller has already shown that text, and a second stream would repeat it.
    private func call(
        _ request: ModelRequest, turns: [ChatTurn], mode: StructuredMode, attempt: Int, onDelta: @Sendable (String) async throws -> Void
    ) async throws -> ChatAttempt {
        var adaptations = 0
        while true {
            do {
                return try await retry.run(provider: provider, metadata: request.metadata, observer: request.onRetry) {
                    try await streamOnce(request, turns: turns, mode: mode, attempt: attempt, onDelta: onDelta)
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

    private func streamOnce(
        _ request: ModelRequest, turns: [ChatTurn], mode: StructuredMode, attempt: Int, onDelta: @Sendable (String) async throws -> Void
    ) async throws -> ChatAttempt {
        var httpRequest = service.httpRequest(for: request, turns: turns, mode: mode)
        if let traceparent = request.traceparent?() { httpRequest.headers.append(HTTPHeader("traceparent", traceparent)) }
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
                        case .finish(let reason):
                            state.finishReason = reason
                        case .refusal(let text):
                            state.refusal = (state.refusal ?? "") + text
                        case .done:
                            state.done = true
                        }
                    }
                }
            }
            try Task.checkCancellation()
        } catch {
            // The call was answered, at least in part, and that part is paid for.
            reportBroken(request, state: state, turns: turns, attempt: attempt, error: error)
            let failure: any Error =
                switch error {
                case let error as HTTPClientError: ProviderError.from(error, provider: provider, redactor: service.redactor)
                default: error
                }
            if let failure = failure as? ProviderError, state.delivered { throw InterruptedStream(error: failure) }
            throw failure
        }
        if !state.done && state.parseFailure == nil && !state.looped {
            reportBroken(request, state: state, turns: turns, attempt: attempt, error: nil)
            let failure = ProviderError(.transient, "the stream ended before the service finished its answer", provider: provider)
            throw state.delivered ? InterruptedStream(error: failure) as any Error : failure
        }
        return state.attempt(provider: provider, model: request.model.name, prompt: turns.map(\.text).joined())
    }

    /// Reports a call whose stream broke off or was cancelled, when anything was answered.
    private func reportBroken(_ request: ModelRequest, state: StreamState, turns: [ChatTurn], attempt: Int, error: (any Error)?) {
        guard state.answered else { return }
        let cancelled = error is CancellationError || Task.isCancelled
        let partial = state.attempt(provider: provider, model: request.model.name, prompt: turns.map(\.text).joined())
        report(request, partial, number: attempt, outcome: cancelled ? .cancelled : .interrupted)
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
            case .finish(let reason):
                state.finishReason = reason
            case .refusal(let text):
                state.refusal = (state.refusal ?? "") + text
            case .done:
                state.done = true
            }
        }
        return state.attempt(provider: provider, model: request.model.name, prompt: turns.map(\.text).joined())
    }
}

/// How many calls one request told of.
final class CallCount: Sendable {
    private let storage = Mutex(0)

    func add() { storage.withLock { $0 += 1 } }
    var value: Int { storage.withLock { $0 } }
}

/// The structured mode learned for one provider instance.
final class LearnedStructuredMode: Sendable {
    private let storage = Mutex<StructuredMode?>(nil)

    var value: StructuredMode? {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }
}
