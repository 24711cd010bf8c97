import SluiceEngine
import Foundation
import SluiceJSON
import SluiceProviders
public import SluiceRunLog
import Synchronization
import Tracing

/// The spans of one run, built from its events as the engine publishes them (an
/// ``EventObserver``): a workflow span (`invoke_workflow`), a span per executed step (map items
/// and loop rounds under their `map`/`loop` step), and a `chat` span per answered model call
/// under its step — one per `model.usage` event, with its tokens and cost.
///
/// Model-call spans start when the call starts: ``TracingModel`` (the run's model provider,
/// wrapped) tells the tracer when a request begins and hands each HTTP request the
/// `traceparent` of its call span. Spans are started and ended with explicit parents and
/// times; nothing is pushed into a task-local.
public final class RunTracer: EventObserver {
    let export: TraceExport
    let parent: ServiceContext
    let state = Mutex(State())

    /// Identifies a step execution as the events do: step id, map item, loop round.
    struct StepKey: Hashable {
        var step: String
        var item: Int?
        var iteration: Int?
    }

    /// The model calls of one step execution's current request.
    struct CallState {
        /// When the next call began (the request's start, then the end of the previous call).
        var start: Date
        var span: (any Span)?
        /// Its `model.usage` was seen: the span ends at `end`.
        var answered = false
        var end: Date?
        /// The provider's `generate` has not returned yet.
        var inFlight = true
        var requestAttributes: SpanAttributes = [:]
        var operationName = "chat"
        /// Captured completion text (only when content capture is on).
        var output: String?
    }

    struct State {
        var workflow: (any Span)?
        var steps: [StepKey: any Span] = [:]
        /// Open step executions by step id, oldest first (for finding a body step's map/loop).
        var open: [String: [StepKey]] = [:]
        /// The kind of each open step execution (search and fetch spans look for theirs).
        var kinds: [StepKey: String] = [:]
        var calls: [StepKey: CallState] = [:]
    }

    init(export: TraceExport, parent: ServiceContext) {
        self.export = export
        self.parent = parent
    }

    /// The context new spans of this run start under when no step encloses them.
    var workflowContext: ServiceContext {
        state.withLock { $0.workflow?.context } ?? parent
    }

    public func observe(_ event: RunEvent) {
        let key = StepKey(step: event.step ?? "", item: event.item, iteration: event.iteration)
        switch event.type {
        case .runStarted, .runResumed:
            startWorkflow(event)
        case .stepStarted:
            startStep(event, key: key)
        case .stepCompleted, .stepFailed, .stepSkipped:
            endStep(event, key: key)
        case .stepRetrying:
            addEvent(named: "sluice.step.retrying", to: key, event: event, preferCall: event.data["source"]?.stringValue == "provider")
        case .gateEvaluated:
            addEvent(named: "sluice.gate.evaluated", to: key, event: event, preferCall: false)
        case .inputRequested:
            addEvent(named: "sluice.input.requested", to: key, event: event, preferCall: false)
        case .modelUsage:
            modelUsage(event, key: key)
        case .runCompleted, .runFailed, .runCancelled:
            endWorkflow(event)
        default:
            break
        }
    }

    // MARK: - Workflow and steps

    private func startWorkflow(_ event: RunEvent) {
        let plan = event.data["plan"]?.stringValue ?? "plan"
        let span = export.tracer.startSpan(
            "invoke_workflow \(plan)", context: parent, ofKind: .internal, at: EventInstant(event.time),
            function: #function, file: #fileID, line: #line)
        span.attributes[TraceNames.operationName] = "invoke_workflow"
        span.attributes[TraceNames.workflowName] = plan
        span.attributes[TraceNames.runID] = event.runID
        if event.type == .runResumed { span.attributes[TraceNames.resumed] = true }
        state.withLock { $0.workflow = span }
    }

    private func endWorkflow(_ event: RunEvent) {
        let (workflow, leftOpen) = state.withLock { state -> ((any Span)?, [any Span]) in
            defer { state = State() }
            let calls = state.calls.values.compactMap(\.span)
            return (state.workflow, calls + Array(state.steps.values))
        }
        let end = EventInstant(event.time)
        for span in leftOpen { span.end(at: end) }
        guard let workflow else { return }
        if let usage = event.data["usage"] {
            Self.copyInteger(usage["input_tokens"], to: TraceNames.inputTokens, of: workflow)
            Self.copyInteger(usage["output_tokens"], to: TraceNames.outputTokens, of: workflow)
            Self.copyInteger(usage["model_calls"], to: TraceNames.modelCalls, of: workflow)
            if let cost = usage["cost_usd"]?.doubleValue { workflow.attributes[TraceNames.costUSD] = cost }
        }
        workflow.attributes[TraceNames.runStatus] = SpanAttribute.string(String(event.type.rawValue.dropFirst("run.".count)))
        if event.type != .runCompleted { setError(event.data["error"], on: workflow, fallback: event.data["reason"]?.stringValue) }
        workflow.end(at: end)
    }

    private func startStep(_ event: RunEvent, key: StepKey) {
        let kind = event.data["kind"]?.stringValue ?? "step"
        let enclosing = event.data["parent"]?.stringValue
        state.withLock { state in
            let parentContext = Self.enclosingSpan(of: key, named: enclosing, in: state)?.context ?? state.workflow?.context ?? parent
            let span = export.tracer.startSpan(
                "\(kind) \(key.step)", context: parentContext, ofKind: .internal, at: EventInstant(event.time),
                function: #function, file: #fileID, line: #line)
            span.attributes[TraceNames.stepID] = key.step
            span.attributes[TraceNames.stepKind] = kind
            if let item = key.item { span.attributes[TraceNames.stepItem] = item }
            if let iteration = key.iteration { span.attributes[TraceNames.stepIteration] = iteration }
            if let items = event.data["items"]?.integerValue { span.attributes[TraceNames.stepItems] = SpanAttribute.int64(items) }
            state.steps[key]?.end(at: EventInstant(event.time))
            state.steps[key] = span
            state.open[key.step, default: []].append(key)
            state.kinds[key] = kind
        }
    }

    /// The span of the step that encloses `key`: its `map`/`loop` (`parent` in `step.started`),
    /// else the `call` step whose id prefixes it (`research.outline`). Of several open
    /// executions of that step, the one in the same loop round (a map's items) or map item
    /// (a loop's rounds), else the latest.
    private static func enclosingSpan(of key: StepKey, named parent: String?, in state: State) -> (any Span)? {
        var candidates: [String] = []
        if let parent { candidates.append(parent) }
        var prefix = key.step
        while let dot = prefix.lastIndex(of: ".") {
            prefix = String(prefix[..<dot])
            candidates.append(prefix)
        }
        for name in candidates {
            guard let open = state.open[name], !open.isEmpty else { continue }
            let match = open.last { $0.iteration == key.iteration && ($0.item == key.item || parent != nil) } ?? open.last!
            if let span = state.steps[match] { return span }
        }
        return nil
    }

    private func endStep(_ event: RunEvent, key: StepKey) {
        let (span, call) = state.withLock { state -> ((any Span)?, (any Span)?) in
            let span = state.steps.removeValue(forKey: key)
            state.kinds[key] = nil
            if var keys = state.open[key.step], let index = keys.lastIndex(of: key) {
                keys.remove(at: index)
                state.open[key.step] = keys.isEmpty ? nil : keys
            }
            let call = state.calls.removeValue(forKey: key)?.span
            return (span, call)
        }
        let end = EventInstant(event.time)
        call?.end(at: end)
        guard let span else { return }
        if let cache = event.data["cache"] {
            Self.copyInteger(cache["hits"], to: TraceNames.cacheHits, of: span)
            Self.copyInteger(cache["misses"], to: TraceNames.cacheMisses, of: span)
        }
        if event.data["truncated"]?.boolValue == true { span.attributes[TraceNames.truncated] = true }
        if event.type == .stepFailed { setError(event.data["error"], on: span, fallback: nil) }
        span.end(at: end)
    }

    private func addEvent(named name: String, to key: StepKey, event: RunEvent, preferCall: Bool) {
        let target: (any Span)? = state.withLock { state in
            (preferCall ? state.calls[key]?.span : nil) ?? state.steps[key] ?? state.workflow
        }
        guard let target else { return }
        var attributes: SpanAttributes = [:]
        if case .object(let object) = event.data {
            for (member, value) in object {
                switch value {
                case .integer(let number): attributes["sluice.\(member)"] = SpanAttribute.int64(number)
                case .double(let number): attributes["sluice.\(member)"] = SpanAttribute.double(number)
                case .bool(let flag): attributes["sluice.\(member)"] = SpanAttribute.bool(flag)
                case .string(let text) where member != "message" && member != "feedback":
                    attributes["sluice.\(member)"] = SpanAttribute.string(export.redactor.redact(String(text.prefix(300))))
                default: break
                }
            }
        }
        target.addEvent(SpanEvent(name: name, at: EventInstant(event.time), attributes: attributes))
    }

    func setError(_ error: JSONValue?, on span: any Span, fallback: String?) {
        let type = error?["type"]?.stringValue ?? fallback ?? "error"
        let message = error?["message"]?.stringValue.map { export.redactor.redact(String($0.prefix(500))) }
        span.attributes[TraceNames.errorType] = type
        span.setStatus(SpanStatus(code: .error, message: message))
    }

    static func copyInteger(_ value: JSONValue?, to name: String, of span: any Span) {
        if let number = value?.integerValue { span.attributes[name] = SpanAttribute.int64(number) }
    }
}
