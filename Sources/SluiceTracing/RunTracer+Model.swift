import Foundation
import SluiceEngine
import SluiceJSON
import SluiceProviders
import SluiceRunLog
import Synchronization
import Tracing

/// Model-call spans: one per answered call (`model.usage`), started when the call starts.
///
/// A request (`generate`) may make several calls (repairs, continuations); the provider asks
/// ``callTraceparent(_:)`` before each HTTP request, which starts the call's span (or, for a
/// provider's own retry of the same call, returns the open one). `model.usage` closes the
/// call: its tokens, cost and outcome go on the span, which ends at that event's time. A
/// provider that sends no HTTP request (the offline model, a cache hit) gets its span when its
/// `model.usage` arrives, starting when its request began.
extension RunTracer {
    /// The step execution a request belongs to, as its events name it. Inside a plan run by a
    /// `call` step the events prefix step ids (`research.outline`) and the request does not, so
    /// a request whose step is not open is matched to the open `….outline` of the same item
    /// and round.
    func key(of request: ModelRequest) -> StepKey {
        let plain = StepKey(step: request.metadata.stepID ?? "", item: request.metadata.item, iteration: request.metadata.iteration)
        return state.withLock { state in
            guard !plain.step.isEmpty, state.steps[plain] == nil else { return plain }
            let suffix = "." + plain.step
            let called = state.steps.keys.filter { $0.step.hasSuffix(suffix) && $0.item == plain.item && $0.iteration == plain.iteration }
            return called.count == 1 ? called[0] : plain
        }
    }

    func modelRequestStarted(_ request: ModelRequest) {
        var attributes: SpanAttributes = [:]
        attributes[TraceNames.operationName] = "chat"
        attributes[TraceNames.providerName] = request.model.provider
        attributes[TraceNames.requestModel] = request.model.name
        attributes[TraceNames.outputType] = request.schema == nil ? "text" : "json"
        attributes[TraceNames.requestStream] = request.stream
        if let temperature = request.temperature { attributes[TraceNames.requestTemperature] = temperature }
        if let maxTokens = request.maxTokens { attributes[TraceNames.requestMaxTokens] = SpanAttribute.int64(Int64(maxTokens)) }
        if export.capturesContent {
            if let system = request.system, !system.isEmpty {
                attributes[TraceNames.systemInstructions] = Self.parts(export.redactor.redact(system))
            }
            attributes[TraceNames.inputMessages] = Self.message(role: "user", text: export.redactor.redact(request.prompt))
        }
        let call = CallState(start: Date(), requestAttributes: attributes, operationName: "chat \(request.model.name)")
        let key = key(of: request)
        let stale = state.withLock { state -> (any Span)? in
            let stale = state.calls[key]?.span
            state.calls[key] = call
            return stale
        }
        stale?.end()
    }

    /// The `traceparent` of the call about to be sent: a new span unless the open one is still
    /// waiting for its answer (the provider retrying the same call).
    func callTraceparent(_ key: StepKey) -> String? {
        let context: ServiceContext? = state.withLock { state in
            guard var call = state.calls[key] else { return nil }
            if let span = call.span, !call.answered { return span.context }
            if let span = call.span, let end = call.end {
                span.end(at: EventInstant(end))
                call.start = end
            }
            let now = Date()
            let span = startCallSpan(call, key: key, at: max(now, call.start), in: state)
            call.span = span
            call.answered = false
            call.end = nil
            state.calls[key] = call
            return span.context
        }
        return context.flatMap { export.traceparent(of: $0) }
    }

    /// The request returned (`error` nil) or failed.
    func modelRequestEnded(_ key: StepKey, response: ModelResponse?, error: (any Error)?) {
        let output = export.capturesContent ? response.map { export.redactor.redact($0.text) } : nil
        let finished: (any Span, Date?)? = state.withLock { state in
            guard var call = state.calls[key] else { return nil }
            call.inFlight = false
            call.output = output
            guard let span = call.span else {
                // The provider sent no HTTP request: its `model.usage` (after this) makes the span.
                state.calls[key] = call
                return nil
            }
            call.span = nil
            if let start = call.end { call.start = start }
            state.calls[key] = call
            return (span, call.answered ? call.end : nil)
        }
        guard let (span, answeredAt) = finished else { return }
        if let output { span.attributes[TraceNames.outputMessages] = Self.message(role: "assistant", text: output) }
        if answeredAt == nil, let error {
            span.attributes[TraceNames.errorType] = String(describing: type(of: error))
            span.setStatus(SpanStatus(code: .error, message: export.redactor.redact(String(String(describing: error).prefix(500)))))
        }
        span.end(at: EventInstant(answeredAt ?? Date()))
    }

    func modelUsage(_ event: RunEvent, key: StepKey) {
        let done: (any Span)? = state.withLock { state in
            // A called plan's request may have kept its own (unprefixed) step id (see `key(of:)`).
            let plain = StepKey(step: String(key.step.split(separator: ".").last ?? ""), item: key.item, iteration: key.iteration)
            let known = state.calls[key] != nil ? key : (state.calls[plain] != nil ? plain : key)
            var call = state.calls.removeValue(forKey: known) ?? CallState(start: event.time, inFlight: false)
            if let span = call.span, call.answered, let end = call.end {
                // A second answered call with no HTTP request between (a provider without one).
                span.end(at: EventInstant(end))
                call.span = nil
                call.start = end
            }
            let span = call.span ?? startCallSpan(call, key: key, at: min(call.start, event.time), in: state)
            Self.record(usage: event.data, on: span)
            call.answered = true
            call.end = event.time
            if call.inFlight {
                call.span = span
                state.calls[known] = call
                return nil
            }
            call.span = nil
            call.start = event.time
            let output = call.output
            call.output = nil
            state.calls[known] = call
            if let output { span.attributes[TraceNames.outputMessages] = Self.message(role: "assistant", text: output) }
            return span
        }
        done?.end(at: EventInstant(event.time))
    }

    private func startCallSpan(_ call: CallState, key: StepKey, at start: Date, in state: State) -> any Span {
        let parent = state.steps[key]?.context ?? state.workflow?.context ?? self.parent
        let span = export.tracer.startSpan(
            call.operationName, context: parent, ofKind: .client, at: EventInstant(start),
            function: #function, file: #fileID, line: #line)
        span.attributes.merge(call.requestAttributes)
        return span
    }

    private static func record(usage data: JSONValue, on span: any Span) {
        if let provider = data["provider"]?.stringValue { span.attributes[TraceNames.providerName] = provider }
        if let model = data["model"]?.stringValue {
            span.attributes[TraceNames.responseModel] = model
            if span.attributes[TraceNames.requestModel] == nil {
                span.attributes[TraceNames.requestModel] = model
                span.operationName = "chat \(model)"
            }
            if span.attributes[TraceNames.operationName] == nil { span.attributes[TraceNames.operationName] = "chat" }
        }
        copyInteger(data["input_tokens"], to: TraceNames.inputTokens, of: span)
        copyInteger(data["output_tokens"], to: TraceNames.outputTokens, of: span)
        if let cost = data["cost_usd"]?.doubleValue { span.attributes[TraceNames.costUSD] = cost }
        copyInteger(data["attempt"], to: TraceNames.callAttempt, of: span)
        if let outcome = data["outcome"]?.stringValue { span.attributes[TraceNames.callOutcome] = outcome }
        if let reason = data["finish_reason"]?.stringValue { span.attributes[TraceNames.finishReasons] = SpanAttribute.stringArray([reason]) }
        if let cache = data["cache"]?.stringValue { span.attributes[TraceNames.callCache] = cache }
        if data["truncated"]?.boolValue == true { span.attributes[TraceNames.truncated] = true }
    }

    /// A GenAI message as the conventions' JSON form: `[{"role":…,"parts":[{"type":"text","content":…}]}]`.
    static func message(role: String, text: String) -> String {
        let value: JSONValue = [["role": .string(role), "parts": [["type": "text", "content": .string(text)]]]]
        return value.serialized(pretty: false)
    }

    static func parts(_ text: String) -> String {
        let value: JSONValue = [["type": "text", "content": .string(text)]]
        return value.serialized(pretty: false)
    }
}
