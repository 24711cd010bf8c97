public import SluicePlan
public import SluiceProviders

/// Which model a step's `model` field means, the one rule the interpreter and the CLI's
/// pre-run checks share: an entry of the plan's `models` (after `--model` overrides), a
/// literal `provider:model`, or the plan's `default`, else `SLUICE_MODEL`.
public struct ModelResolution: Sendable {
    public var plan: Plan
    /// `--model NAME=provider:model`.
    public var overrides: [String: String]
    /// `SLUICE_MODEL`: used when the plan has no `default`.
    public var defaultModel: String?

    public init(plan: Plan, overrides: [String: String], defaultModel: String?) {
        self.plan = plan
        self.overrides = overrides
        self.defaultModel = defaultModel
    }

    /// The model for a step's `model` field (`nil`: the step names none).
    /// - Throws: a message saying what is missing or malformed.
    public func resolve(_ name: String?) throws(ModelResolutionError) -> (id: ModelID, spec: ModelSpec?) {
        let key = name ?? "default"
        var spec = plan.models[key]
        if let override = overrides[key] {
            spec = ModelSpec(
                model: override, temperature: spec?.temperature, maxTokens: spec?.maxTokens, onTruncation: spec?.onTruncation,
                maxRepairs: spec?.maxRepairs)
        }
        let literal = name.flatMap { $0.contains(":") ? $0 : nil }
        guard let text = spec?.model ?? literal ?? (name == nil ? defaultModel : nil) else {
            throw ModelResolutionError(
                message: name == nil
                    ? "no model: the plan has no 'default' in its models and SLUICE_MODEL is not set (set SLUICE_MODEL, e.g. openai:gpt-4o-mini with OPENAI_API_KEY or anthropic:claude-sonnet-4-5 with ANTHROPIC_API_KEY, or pass --model default=provider:model)"
                    : "no model named '\(key)' in the plan's models (write provider:model, or add it to models)")
        }
        guard let id = ModelID(parsing: text) else {
            throw ModelResolutionError(message: "model '\(text)' should be written provider:model")
        }
        return (id, spec)
    }

    /// Every model the plan's `llm` and `gate` steps will call, each once, in plan order.
    public func modelsUsed() throws(ModelResolutionError) -> [ModelID] {
        var seen: [ModelID] = []
        for step in plan.allSteps {
            let name: String??
            switch step.kind {
            case .llm(let llm): name = .some(llm.model)
            case .gate(let gate): name = .some(gate.model)
            default: name = .none
            }
            guard case .some(let modelName) = name else { continue }
            let id = try resolve(modelName).id
            if !seen.contains(id) { seen.append(id) }
        }
        return seen
    }
}

/// Why a step's model cannot be resolved.
public struct ModelResolutionError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
