import Foundation
import SluiceJSON
import SluicePlan
import SluiceProviders

/// `llm` and `gate`: model calls, streaming, structured output, usage and budgets.
extension Interpreter {
    func runLLM(_ llm: LLMStep, step: Step, scope: Scope) async throws -> JSONValue {
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
        let response = try await callModel(request, step: step, scope: scope)
        guard let schema = llm.schema else { return .string(response.text) }
        return try structuredOutput(response.text, schema: schema, step: step.id)
    }

    func runGate(_ gate: GateStep, step: Step, scope: Scope) async throws -> JSONValue {
        let threshold = try scope.number(gate.threshold, field: "threshold", step: step.id)
        let (model, spec) = try resolveModel(gate.model, step: step.id)
        let schema = Self.judgeSchema(gate)
        let request = ModelRequest(
            model: model,
            system: "You are a strict, fair reviewer. Score only what you are shown, and say precisely what is missing.",
            prompt: scope.render(gate.prompt) + "\n\n" + Self.judgeInstructions(gate),
            schema: schema,
            temperature: spec?.temperature ?? 0,
            maxTokens: spec?.maxTokens,
            stream: false,
            metadata: .init(purpose: .judge, stepID: step.id, item: scope.item, iteration: scope.iteration)
        )
        let response = try await callModel(request, step: step, scope: scope)
        let judged = try structuredOutput(response.text, schema: schema, step: step.id)
        var scores = JSONObject()
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
        var output: JSONObject = [
            "scores": .object(scores), "score": .double(score), "threshold": .double(threshold), "passed": .bool(passed),
            "feedback": judged["feedback"] ?? "",
        ]
        output["iteration"] = scope.iteration.map { .integer(Int64($0)) } ?? .null
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

    /// Calls the model, streaming deltas as `step.delta`, then reports `model.usage` and checks budgets.
    func callModel(_ request: ModelRequest, step: Step, scope: Scope) async throws -> ModelResponse {
        let context = self.context
        let id = step.id
        var reported = request
        reported.onRetry = providerRetryReporter(step: id, scope: scope)
        let streams = request.stream
        let response = try await engine.providers.model.generate(reported) { delta in
            guard streams, !delta.isEmpty else { return }
            context.emit(.stepDelta, step: id, scope: scope, data: ["text": .string(delta)])
        }
        let cost = context.record(response.usage)
        var usage: JSONObject = [
            "provider": .string(response.usage.provider),
            "model": .string(response.usage.model),
            "input_tokens": .integer(Int64(response.usage.inputTokens)),
            "output_tokens": .integer(Int64(response.usage.outputTokens)),
            "cost_usd": cost.map { .double($0) } ?? .null,
        ]
        if let cache = response.cache { usage["cache"] = .string(cache) }
        context.emit(.modelUsage, step: id, scope: scope, data: .object(usage))
        try context.checkBudget(step: id)
        return response
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
