import Foundation
import SluiceJSON
import SluiceProviders
import Testing

@Suite struct PriceTableTests {
    @Test func theEmbeddedTableEqualsConfigPricesJSON() throws {
        let text = try String(contentsOfFile: RepositoryPaths.prices, encoding: .utf8)
        let file = try PriceTable.parse(text, source: RepositoryPaths.prices)
        #expect(file.prices == PriceTable.embedded.prices)
        #expect(!file.prices.isEmpty)
    }

    @Test func costUsesPerMillionPricesAndProviderWildcards() throws {
        let table = PriceTable(prices: [
            "openai:gpt-4o-mini": .init(inputPerMillion: 0.15, outputPerMillion: 0.6),
            "simulated:*": .init(inputPerMillion: 0, outputPerMillion: 0),
        ])
        let cost = try #require(table.cost(of: ModelUsage(provider: "openai", model: "gpt-4o-mini", inputTokens: 1_000_000, outputTokens: 500_000)))
        #expect(abs(cost - 0.45) < 1e-9)
        #expect(table.cost(of: ModelUsage(provider: "simulated", model: "openai:gpt-4o", inputTokens: 10, outputTokens: 10)) == 0)
        #expect(table.cost(of: ModelUsage(provider: "other", model: "x", inputTokens: 10, outputTokens: 10)) == nil)
    }

    @Test func sluicePricesOverridesTheEmbeddedTable() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("prices-\(UUID().uuidString).json").path
        try #"{"models": {"acme:m1": {"input": 1, "output": 2}}}"#.write(toFile: path, atomically: true, encoding: .utf8)
        let table = try PriceTable.standard(environment: ["SLUICE_PRICES": path])
        #expect(table.prices.keys.sorted() == ["acme:m1"])
        #expect(try PriceTable.standard(environment: [:]).prices == PriceTable.embedded.prices)
    }

    @Test(arguments: [
        (#"{"models": {"nocolon": {"input": 1, "output": 1}}}"#, "provider:model"),
        (#"{"models": {"a:b": {"input": -1, "output": 1}}}"#, "non-negative"),
        (#"{"prices": {}}"#, "\"models\""),
        (#"{"models": "#, "not JSON"),
    ])
    func badPriceFilesSayWhatIsWrong(text: String, fragment: String) {
        #expect {
            try PriceTable.parse(text, source: "p.json")
        } throws: { error in
            "\(error)".contains(fragment) && "\(error)".hasPrefix("p.json: ")
        }
    }
}
