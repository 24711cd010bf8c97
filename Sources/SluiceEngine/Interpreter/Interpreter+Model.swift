import Foundation
import SluiceJSON
import SluicePlan
import SluiceProviders

/// `llm` and `gate`: model calls, streaming, structured output, usage and budgets.
extension Interpreter {
    func runLLM(_ llm: LLMStep, step: Step, scope: Scope) async throws -> JSONValue {
        let response = try await callModel(llmRequest(llm, step: step, scope: scope), step: step, scope: scope)
        guard let schema = llm.schema else { return .string(response.text) }
        return try structuredOutput(response.text, schema: schema, step: step.id)
    }

    @inline(never)
    private func llmRequest(_ llm: LLMStep, step: Step, scope: Scope) throws(RunFailure) -> ModelRequest {
        let (model, spec) = try resolveModel(llm.model, step: step.id)
        let request = ModelRequest(
            model: model,
            system: llm.system.map(scope.render),
            prompt: scope.render(llm.prompt),
            schema: llm.schema,
            temperature: llm.temperature ?? spec?.temperature,
            maxTokens: llm.maxTokens ?? spec?.maxTokens,
            stream: llm.stream,
            metadata: .init(purpose: llm.schema == nil ? .text : .structured, stepID: step.id, item: scope.item, iteration: scope.iteration)
        )
        return reporting(request, step: step, scope: scope)
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
        let request = ModelRequest(
            model: model,
            system: "You are a strict, fair reviewer. Score only what you are shown, and say precisely what is missing.",
            prompt: scope.render(gate.prompt) + "\n\n" + Self.judgeInstructions(gate),
            schema: Self.judgeSchema(gate),
            temperature: spec?.temperature ?? 0,
            maxTokens: spec?.maxTokens,
            stream: false,
            metadata: .init(purpose: .judge, stepID: step.id, item: scope.item, iteration: scope.iteration)
        )
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

    /// Calls the model, streaming deltas as `step.delta`, then reports `model.usage` and checks
    /// budgets. `request` comes from ``reporting(_:step:scope:)``, so that no frame waiting on
    /// the call holds a second copy of it.
    @inline(__always)
    func callModel(_ request: ModelRequest, step: Step, scope: Scope) async throws -> ModelResponse {
        let response = try await engine.providers.model.generate(request, onDelta: deltaReporter(request, step: step, scope: scope))
        try reportUsage(response, step: step, scope: scope)
        return response
    }

    /// The request with its provider retries reported as `step.retrying`.
    @inline(never)
    private func reporting(_ request: ModelRequest, step: Step, scope: Scope) -> ModelRequest {
        var reported = request
        reported.onRetry = providerRetryReporter(step: step.id, scope: scope)
        return reported
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

    /// `model.usage` with the call's cost, then the budget check.
    @inline(never)
    private func reportUsage(_ response: ModelResponse, step: Step, scope: Scope) throws(RunFailure) {
        let cost = context.record(response.usage)
        var usage: JSONObject = [
            "provider": .string(response.usage.provider),
            "model": .string(response.usage.model),
            "input_tokens": .integer(Int64(response.usage.inputTokens)),
            "output_tokens": .integer(Int64(response.usage.outputTokens)),
            "cost_usd": cost.map { .double($0) } ?? .null,
        ]
        if let cache = response.cache { usage["cache"] = .string(cache) }
        context.emit(.modelUsage, step: step.id, scope: scope, data: .object(usage))
        try context.checkBudget(step: step.id)
    }

    /// Parses a model's JSON answer (tolerating a Markdown code fence) and checks it against the schema.
    func structuredOutput(_ text: String, schema: JSONValue, step: String) throws(RunFailure) -> JSONValue {
        let value: JSONValue
        do {
            value = try JSONParser.parse(Self.unfenced(text))
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

    static func unfenced(_ text: String) -> String {
        var trimmed = Substring(text).drop { $0.isWhitespace }
        guard trimmed.hasPrefix("```") else { return text }
        trimmed = trimmed.drop { $0 != "\n" }
        if let end = trimmed.range(of: "```", options: .backwards) { trimmed = trimmed[..<end.lowerBound] }
        return String(trimmed)
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
