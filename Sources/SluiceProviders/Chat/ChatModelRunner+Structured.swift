import SluiceJSON

extension ChatModelRunner {
    /// Structured output: parsed as it streams, validated at the end, and given up to
    /// ``ModelRequest/maxRepairs`` further attempts when invalid, truncated or looping, each
    /// one changed per ``RepairPlan``.
    func generateStructured(
        _ request: ModelRequest, schema: JSONValue, onDelta: @Sendable (String) async throws -> Void
    ) async throws -> ModelResponse {
        let validator: JSONSchema
        do {
            validator = try CompiledSchemas.shared.compiled(schema)
        } catch {
            throw ProviderError(.invalidRequest, "\(where_(request))the output schema is not a valid JSON Schema: \(error)", provider: providerName)
        }
        var plan = RepairPlan(request: request, defaultMaxTokens: service.defaultMaxTokens)
        var usage = ModelUsage(provider: providerName, model: request.model.name, inputTokens: 0, outputTokens: 0)
        let attempts = 1 + max(0, request.maxRepairs)
        var problems: [String] = []
        for number in 1...attempts {
            let attempt = try await callWithFallback(plan.request, turns: plan.turns, attempt: number, onDelta: onDelta)
            usage.inputTokens += attempt.usage.inputTokens
            usage.outputTokens += attempt.usage.outputTokens
            try refuse(request, attempt, number: number)
            switch check(attempt, schema: schema, validator: validator) {
            case .success(let instance):
                report(request, attempt, number: number, outcome: number == 1 ? .accepted : .repaired)
                return ModelResponse(text: instance.serialized(), usage: usage, finishReason: attempt.finishReason)
            case .failure(let found):
                problems = found.problems
                report(request, attempt, number: number, outcome: !attempt.looped && attempt.truncated ? .truncated : .invalid, problem: problems.first)
                plan.next(after: attempt, problems: problems)
            }
        }
        let repairs = attempts == 1 ? "with no repair allowed" : attempts == 2 ? "even after one repair" : "even after \(attempts - 1) repairs"
        throw ProviderError(
            .invalidResponse,
            "\(where_(request))the structured output does not match the schema, \(repairs): " + problems.joined(separator: "; "),
            provider: providerName
        )
    }

    private var providerName: String { service.providerName }

    private struct Problems: Error {
        var problems: [String]
    }

    /// The instance, or what is wrong with the answer.
    private func check(_ attempt: ChatAttempt, schema: JSONValue, validator: JSONSchema) -> Result<JSONValue, Problems> {
        if attempt.looped { return .failure(Problems(problems: ["the reply kept repeating itself and was cut off"])) }
        if attempt.truncated { return .failure(Problems(problems: ["the reply stopped at its token limit (\(attempt.finishReason ?? "length")) before the JSON was complete"])) }
        switch attempt.json {
        case .success(let value):
            let instance = service.unwrap(value, schema: schema)
            let errors = validator.validate(instance)
            if errors.isEmpty { return .success(instance) }
            return .failure(Problems(problems: errors.prefix(20).map { "\($0.instancePath.description.isEmpty ? "/" : $0.instancePath.description): \($0.message)" }))
        case .failure(let parseError):
            return .failure(Problems(problems: ["the reply is not JSON: \(parseError)"]))
        case nil:
            return .failure(Problems(problems: ["the reply is not JSON: it is empty"]))
        }
    }
}

/// What each further attempt at a structured answer changes, so that no attempt repeats the
/// request before it:
/// - an answer that parsed but broke the schema is sent back with the validation errors (the
///   conversation grows by the answer and the errors);
/// - an answer cut off at its token limit, or looping, is not sent back (it is long and of no
///   use); the prompt instead asks for a brief, complete answer, and `max_tokens` doubles, up
///   to ``maxTokensGrowth`` times the step's own (when the step or the service sets one);
/// - every further attempt halves the temperature (from 1 when the step sets none), since an
///   answer that went wrong once tends to go wrong again at the same temperature.
struct RepairPlan {
    /// The most a truncated answer's `max_tokens` is raised to, as a multiple of the first.
    static let maxTokensGrowth = 4

    private(set) var request: ModelRequest
    private(set) var turns: [ChatTurn]
    private let firstMaxTokens: Int?

    init(request: ModelRequest, defaultMaxTokens: Int?) {
        self.request = request
        turns = [ChatTurn(role: .user, text: request.prompt)]
        firstMaxTokens = request.maxTokens ?? defaultMaxTokens
    }

    mutating func next(after attempt: ChatAttempt, problems: [String]) {
        if attempt.truncated {
            let note = StructuredPrompt.shorter(looped: attempt.looped)
            turns = [ChatTurn(role: .user, text: request.prompt + "\n\n" + note)]
            if let first = firstMaxTokens {
                let current = request.maxTokens ?? first
                request.maxTokens = min(current * 2, first * Self.maxTokensGrowth)
            }
        } else {
            turns += [ChatTurn(role: .assistant, text: attempt.text), ChatTurn(role: .user, text: StructuredPrompt.repair(errors: problems))]
        }
        request.temperature = Self.lowered(request.temperature)
    }

    static func lowered(_ temperature: Double?) -> Double {
        ((temperature ?? 1) / 2 * 100).rounded() / 100
    }
}
