public import SluiceJSON

/// Token and cost totals of a run.
public struct UsageTotals: Sendable, Hashable {
    public var inputTokens = 0
    public var outputTokens = 0
    public var costUSD = 0.0
    public var modelCalls = 0
    /// Calls whose model had no price (their cost is not in ``costUSD``).
    public var unpricedCalls = 0
    /// Whether any call was answered by the offline simulated model.
    public var simulated = false

    public init() {}

    public var totalTokens: Int { inputTokens + outputTokens }

    /// `{input_tokens, output_tokens, total_tokens, cost_usd, model_calls, simulated?}`.
    public var jsonValue: JSONValue {
        var object: JSONObject = [
            "input_tokens": .integer(Int64(inputTokens)),
            "output_tokens": .integer(Int64(outputTokens)),
            "total_tokens": .integer(Int64(totalTokens)),
            "cost_usd": .double((costUSD * 1_000_000).rounded() / 1_000_000),
            "model_calls": .integer(Int64(modelCalls)),
        ]
        if simulated { object["simulated"] = true }
        return .object(object)
    }
}
