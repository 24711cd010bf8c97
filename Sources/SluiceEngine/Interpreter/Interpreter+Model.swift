import Foundation
import SluiceJSON
import SluicePlan
import SluiceProviders
import SluiceRunLog

/// `llm` and `gate`: model calls, streaming, structured output, usage and budgets.
extension Interpreter {
    func runLLM(_ llm: LLMStep, step: Step, scope: Scope) async throws -> StepResult {
        let response = try await callModel(llmRequest(llm, step: step, scope: scope), step: step, scope: scope)
        guard let schema = llm.schema else { return StepResult(output: .string(response.text), truncated: response.truncated) }
        return StepResult(output: try structuredOutput(response.text, schema: schema, step: step.id))
    }

    @inline(never)
    private func llmRequest(_ llm: LLMStep, step: Step, scope: Scope) throws(RunFailure) -> ModelRequest {
        let (model, spec) = try resolveModel(llm.model, step: step.id)
        var request = ModelRequest(
            model: model,
            system: try llm.system.map { (template) throws(RunFailure) in try scope.render(template, step: step.id) },
            prompt: try scope.render(llm.prompt, step: step.id),
            schema: llm.schema,
            temperature: llm.temperature ?? spec?.temperature,
            maxTokens: llm.maxTokens ?? spec?.maxTokens,
            stream: llm.stream,
            metadata: .init(purpose: llm.schema == nil ? .text : .structured, stepID: step.id, item: scope.item, iteration: scope.iteration)
        )
        // The step's own setting, else its model's (the plan's), else the default.
        request.onTruncation = Self.truncationHandling(llm.onTruncation ?? spec?.onTruncation)
        if let repairs = llm.maxRepairs ?? spec?.maxRepairs { request.maxRepairs = repairs }
        return reporting(request, step: step, scope: scope)
    }

    static func truncationHandling(_ setting: TruncationSetting?) -> TruncationHandling {
        switch setting ?? .continue {
        case .continue: .continue(maxContinuations: TruncationHandling.defaultContinuations)
        case .fail: .fail
        case .accept: .accept
        }
    }

    func runGate(_ gate: GateStep, step: Step, scope: Scope) async throws -> JSONValue {
        let threshold = try scope.number(gate.threshold, field: "threshold", step: step.id)
        let request = try judgeRequest(gate, step: step, scope: scope)
        let response = try await callModel(request, step: step, scope: scope)
        return try verdict(response.text, gate: gate, threshold: threshold, schema: request.schema ?? .null, step: step, scope: scope)
    }

    @inline(never)
    private func judgeRequest(_ gate: GateStep, step: Step, scope: Scope) throws(RunFailure) -> ModelRequest {
        let (model, spec) = try resolveModel(gate.model, step: step.id)
        var request = ModelRequest(
            model: model,
            system: "You are a strict, fair reviewer. Score only what you are shown, and say precisely what is missing.",
            prompt: try scope.render(gate.prompt, step: step.id) + "\n\n" + Self.judgeInstructions(gate),
            schema: Self.judgeSchema(gate),
            temperature: spec?.temperature ?? 0,
            maxTokens: spec?.maxTokens,
            stream: false,
            metadata: .init(purpose: .judge, stepID: step.id, item: scope.item, iteration: scope.iteration)
        )
        if let repairs = spec?.maxRepairs { request.maxRepairs = repairs }
        return reporting(request, step: step, scope: scope)
    }

    /// The judge's scores weighted into one, compared with the threshold: `gate.evaluated`
    /// and the gate's output.
    @inline(never)
    private func verdict(
        _ answer: String, gate: GateStep, threshold: Double, schema: JSONValue, step: Step, scope: Scope
    ) throws(RunFailure) -> JSONValue {
        let judged = try structuredOutput(answer, schema: schema, step: step.id)
        var scores = JSONObject()
        scores.reserveCapacity(gate.dimensions.count)
        var weighted = 0.0
        var totalWeight = 0.0
        for dimension in gate.dimensions {
            let score = judged["scores"]?[dimension.name]?.doubleValue ?? gate.scaleMin
            scores[dimension.name] = .double(score)
            weighted += score * dimension.weight
            totalWeight += dimension.weight
        }
        let score = totalWeight > 0 ? (weighted / totalWeight * 100).rounded() / 100 : gate.scaleMin
        let passed = score >= threshold
        let output: JSONObject = [
            "scores": .object(scores), "score": .double(score), "threshold": .double(threshold), "passed": .bool(passed),
            "feedback": judged["feedback"] ?? "", "iteration": scope.iteration.map { .integer(Int64($0)) } ?? .null,
        ]
        context.emit(.gateEvaluated, step: step.id, scope: scope, data: .object(output))
        return .object(output)
    }

    /// The structured output a judge must return: a score per dimension within the scale, and feedback.
    static func judgeSchema(_ gate: GateStep) -> JSONValue {
        var properties = JSONObject()
        for dimension in gate.dimensions {
            var property: JSONObject = ["type": "number", "minimum": .double(gate.scaleMin), "maximum": .double(gate.scaleMax)]
            if let description = dimension.description { property["description"] = .string(description) }
            properties[dimension.name] = .object(property)
        }
        return [
            "type": "object",
            "properties": [
                "scores": [
                    "type": "object", "properties": .object(properties),
                    "required": .array(gate.dimensions.map { .string($0.name) }), "additionalProperties": false,
                ],
                "feedback": ["type": "string", "description": "What is missing or weak, specifically."],
            ],
            "required": ["scores", "feedback"],
            "additionalProperties": false,
        ]
    }

    static func judgeInstructions(_ gate: GateStep) -> String {
        let scale = "from \(format(gate.scaleMin)) to \(format(gate.scaleMax))"
        let lines = gate.dimensions.map { "- \($0.name)" + ($0.description.map { ": \($0)" } ?? "") }
        return "Score each dimension \(scale):\n" + lines.joined(separator: "\n")
            + "\n\nAnswer with JSON: {\"scores\": {dimension: score}, \"feedback\": \"what is missing or weak\"}."
    }

    private static func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }

    /// Calls the model, streaming deltas as `step.delta`, then checks budgets. Each call the
    /// provider answered has its `model.usage` already (``usageReporter(step:scope:)``), even
    /// when the request then fails; a provider that tells of none (the simulated model, a
    /// cache hit) gets one for its response. `request` comes from
    /// ``reporting(_:step:scope:)``, so that no frame waiting on the call holds a second copy of it.
    @inline(__always)
    func callModel(_ request: ModelRequest, step: Step, scope: Scope) async throws -> ModelResponse {
        let response: ModelResponse
        do {
            response = try await engine.providers.model.generate(request, onDelta: deltaReporter(request, step: step, scope: scope))
        } catch {
            // What the failed request spent may itself be over budget; that is the failure to report.
            try context.checkBudget(step: step.id)
            throw error
        }
        if response.callsReported == 0 { reportUsage(response, step: step, scope: scope) }
        try context.checkBudget(step: step.id)
        return response
    }

    /// The request with its provider retries reported as `step.retrying` and each answered
    /// call as `model.usage`.
    @inline(never)
    private func reporting(_ request: ModelRequest, step: Step, scope: Scope) -> ModelRequest {
        var reported = request
        reported.onRetry = providerRetryReporter(step: step.id, scope: scope)
        reported.onCall = usageReporter(step: step.id, scope: scope)
        return reported
    }

    /// Counts one answered call in the run's totals and emits its `model.usage`.
    @inline(never)
    private func usageReporter(step: String, scope: Scope) -> @Sendable (ModelCall) -> Void {
        let context = self.context
        return { call in
            let cost = context.record(call.usage)
            var usage = Self.usageData(call.usage, cost: cost)
            usage["attempt"] = .integer(Int64(call.attempt))
            usage["outcome"] = .string(call.outcome.rawValue)
            if call.truncated { usage["truncated"] = true }
            if let reason = call.finishReason { usage["finish_reason"] = .string(reason) }
            if let problem = call.problem { usage["problem"] = .string(String(problem.prefix(300))) }
            if let cache = call.cache { usage["cache"] = .string(cache) }
            context.emit(.modelUsage, step: step, scope: scope, data: .object(usage))
        }
    }

    static func usageData(_ usage: ModelUsage, cost: Double?) -> JSONObject {
        ModelUsageRecord(
            provider: usage.provider, model: usage.model, inputTokens: usage.inputTokens, outputTokens: usage.outputTokens, costUSD: cost
        ).data
    }

    /// Emits each streamed piece of text as `step.delta` (nothing for a request that does not stream).
    @inline(never)
    private func deltaReporter(_ request: ModelRequest, step: Step, scope: Scope) -> @Sendable (String) async throws -> Void {
        let context = self.context
        let id = step.id
        let streams = request.stream
        return { delta in
            guard streams, !delta.isEmpty else { return }
            context.emitDelta(delta, step: id, scope: scope)
        }
    }

    /// `model.usage` with the call's cost, for a response whose provider told of no calls.
    @inline(never)
    private func reportUsage(_ response: ModelResponse, step: Step, scope: Scope) {
        let cost = context.record(response.usage)
        var usage = Self.usageData(response.usage, cost: cost)
        usage["attempt"] = 1
        usage["outcome"] = "accepted"
        if response.truncated { usage["truncated"] = true }
        if let reason = response.finishReason { usage["finish_reason"] = .string(reason) }
        if let cache = response.cache { usage["cache"] = .string(cache) }
        context.emit(.modelUsage, step: step.id, scope: scope, data: .object(usage))
    }

    /// Parses a model's JSON answer (tolerating a Markdown code fence, and prose around the
    /// JSON) and checks it against the schema.
    func structuredOutput(_ text: String, schema: JSONValue, step: String) throws(RunFailure) -> JSONValue {
        let value: JSONValue
        do {
            value = try Self.parseAnswer(text)
        } catch {
            throw RunFailure(.invalidModelOutput, "the model's answer is not JSON: \(error.message)", step: step, isRetryable: true)
        }
        let problems = try context.schema(schema, for: step).validate(value)
        if let first = problems.first {
            let more = problems.count > 1 ? " (and \(problems.count - 1) more)" : ""
            throw RunFailure(.invalidModelOutput, "the model's answer does not match the step's schema: \(first)\(more)", step: step, isRetryable: true)
        }
        return value
    }

    /// The answer as JSON: the whole text, or else the JSON it holds (``AnswerText/jsonCandidate(in:)``).
    static func parseAnswer(_ text: String) throws(JSONParseError) -> JSONValue {
        do {
            return try JSONParser.parse(text)
        } catch {
            let candidate = AnswerText.jsonCandidate(in: text)
            guard candidate.utf8.count != text.utf8.count else { throw error }
            return try JSONParser.parse(String(candidate))
        }
    }

    /// The model a step names (see ``ModelResolution``).
    func resolveModel(_ name: String?, step: String) throws(RunFailure) -> (ModelID, ModelSpec?) {
        let resolution = ModelResolution(
            plan: plan, overrides: engine.configuration.modelOverrides,
            defaultModel: engine.configuration.defaultModel ?? engine.providers.defaultModel)
        do {
            return try resolution.resolve(name)
        } catch {
            throw RunFailure(.stepFailed, error.message, step: step)
        }
    }
}
