import Foundation
import SluiceJSON

/// Model prices in USD per million tokens, to turn usage into cost.
///
/// The table compiled into the binary is `config/prices.json`; `SLUICE_PRICES=/path.json`
/// replaces it. Keys are `provider:model`; `provider:*` prices every model of a provider.
///
/// ```swift
/// let prices = try PriceTable.standard(environment: ProcessInfo.processInfo.environment)
/// let usd = prices.cost(of: usage)   // nil when the model is not in the table
/// ```
public struct PriceTable: Sendable {
    public struct Price: Sendable, Hashable {
        public var inputPerMillion: Double
        public var outputPerMillion: Double

        public init(inputPerMillion: Double, outputPerMillion: Double) {
            self.inputPerMillion = inputPerMillion
            self.outputPerMillion = outputPerMillion
        }
    }

    /// A price file that cannot be used, with where and why.
    public struct LoadError: Error, Sendable, CustomStringConvertible {
        public var source: String
        public var message: String
        public var description: String { "\(source): \(message)" }
    }

    public var prices: [String: Price]

    public init(prices: [String: Price]) {
        self.prices = prices
    }

    /// The table compiled into the binary.
    public static let embedded: PriceTable = {
        do {
            return try parse(embeddedJSON, source: "embedded price table")
        } catch {
            // The embedded text is ours and PriceTableTests parses it; reaching this is a build mistake.
            fatalError("\(error)")
        }
    }()

    /// The embedded table, or the file named by `SLUICE_PRICES` when it is set.
    public static func standard(environment: [String: String]) throws(LoadError) -> PriceTable {
        guard let path = environment["SLUICE_PRICES"], !path.isEmpty else { return embedded }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LoadError(source: path, message: "cannot read the price file named by SLUICE_PRICES")
        }
        return try parse(String(decoding: data, as: UTF8.self), source: path)
    }

    /// Parses `{"models": {"provider:model": {"input": usd, "output": usd}}}`.
    public static func parse(_ text: String, source: String) throws(LoadError) -> PriceTable {
        let value: JSONValue
        do {
            value = try JSONParser.parse(text)
        } catch {
            throw LoadError(source: source, message: "not JSON: \(error)")
        }
        guard let models = value["models"]?.objectValue else {
            throw LoadError(source: source, message: "expected an object with a \"models\" object")
        }
        var prices: [String: Price] = [:]
        for (key, entry) in models {
            guard key.contains(":") else {
                throw LoadError(source: source, message: "model '\(key)' should be written provider:model")
            }
            guard let input = entry["input"]?.doubleValue, let output = entry["output"]?.doubleValue, input >= 0, output >= 0 else {
                throw LoadError(source: source, message: "model '\(key)' needs non-negative numbers \"input\" and \"output\" (USD per 1M tokens)")
            }
            prices[key] = Price(inputPerMillion: input, outputPerMillion: output)
        }
        return PriceTable(prices: prices)
    }

    /// The price of `provider:model`, falling back to `provider:*`.
    public func price(provider: String, model: String) -> Price? {
        prices["\(provider):\(model)"] ?? prices["\(provider):*"]
    }

    /// The cost of one call in USD, or nil when the model has no price.
    public func cost(of usage: ModelUsage) -> Double? {
        guard let price = price(provider: usage.provider, model: usage.model) else { return nil }
        return (Double(usage.inputTokens) * price.inputPerMillion + Double(usage.outputTokens) * price.outputPerMillion) / 1_000_000
    }
}
