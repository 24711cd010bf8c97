// The price table compiled into the binary. Keep it equal to config/prices.json
// (PriceTableTests checks); edit that file and copy it here.
extension PriceTable {
    static let embeddedJSON = #"""
{
  "description": "USD per 1M tokens, by provider:model. `provider:*` prices every model of a provider. Override with SLUICE_PRICES=/path/to/prices.json. The copy compiled into sluice is Sources/SluiceProviders/Pricing/PriceTable+Embedded.swift; a test keeps the two equal.",
  "models": {
    "openai:gpt-4o-mini": { "input": 0.15, "output": 0.6 },
    "openai:gpt-4o": { "input": 2.5, "output": 10.0 },
    "openai:gpt-4.1": { "input": 2.0, "output": 8.0 },
    "openai:gpt-4.1-mini": { "input": 0.4, "output": 1.6 },
    "openai:gpt-4.1-nano": { "input": 0.1, "output": 0.4 },
    "openai:o4-mini": { "input": 1.1, "output": 4.4 },
    "anthropic:claude-opus-4-1": { "input": 15.0, "output": 75.0 },
    "anthropic:claude-sonnet-4-5": { "input": 3.0, "output": 15.0 },
    "anthropic:claude-haiku-4-5": { "input": 1.0, "output": 5.0 },
    "deepseek:deepseek-chat": { "input": 0.27, "output": 1.1 },
    "deepseek:deepseek-reasoner": { "input": 0.55, "output": 2.19 },
    "simulated:*": { "input": 0.0, "output": 0.0 }
  }
}
"""#
}
