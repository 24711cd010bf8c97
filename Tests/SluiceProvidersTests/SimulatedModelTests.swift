import SluiceJSON
import SluiceProviders
import SluiceTesting
import Synchronization
import Testing

@Suite struct SimulatedModelTests {
    let model = SimulatedModel(configuration: .init(chunkDelay: .zero, wordsPerChunk: 3))
    let id = ModelID(provider: "openai", name: "gpt-4o-mini")

    @Test func textIsStreamedInChunksAndSaysItIsSimulated() async throws {
        let deltas = Mutex<[String]>([])
        let request = ModelRequest(model: id, prompt: "Write a section on AI agents funding.")
        let response = try await model.generate(request) { delta in deltas.withLock { $0.append(delta) } }
        let chunks = deltas.withLock { $0 }
        #expect(chunks.count > 5)
        #expect(chunks.joined() == response.text)
        #expect(response.text.hasPrefix("[simulated]"))
        #expect(response.usage.provider == "simulated")
        #expect(response.usage.outputTokens == SimulatedModel.estimatedTokens(response.text))
        #expect(response.usage.inputTokens > 0)
    }

    @Test func sameRequestSameAnswer() async throws {
        let request = ModelRequest(model: id, prompt: "Summarize the week in AI agents.", stream: false)
        let first = try await model.generate(request) { _ in }
        let second = try await model.generate(request) { _ in }
        #expect(first.text == second.text)
    }

    @Test func structuredAnswersParseAndFollowTheSchema() async throws {
        let schema: JSONValue = ["type": "object", "properties": ["queries": ["type": "array", "items": ["type": "string"], "maxItems": 4]], "required": ["queries"]]
        let request = ModelRequest(model: id, prompt: "Write search queries about AI agents.", schema: schema, metadata: .init(purpose: .structured))
        let response = try await model.generate(request) { _ in }
        let value = try JSONParser.parse(response.text)
        let queries = try #require(value["queries"]?.arrayValue)
        #expect(queries.count == 3)
        #expect(queries[0].stringValue?.contains("AI agents") == true)
    }

    @Test(arguments: [(1, 6.2), (2, 7.4), (3, 8.3)])
    func judgeScoresRiseWithTheRound(iteration: Int, expected: Double) async throws {
        let dimensions = ["relevance", "depth", "accuracy", "completeness", "timeliness"]
        var scoreProperties = JSONObject()
        for name in dimensions { scoreProperties[name] = ["type": "number", "minimum": 0, "maximum": 10] }
        let schema: JSONValue = [
            "type": "object",
            "properties": ["scores": ["type": "object", "properties": .object(scoreProperties), "required": .array(dimensions.map { .string($0) })], "feedback": ["type": "string"]],
            "required": ["scores", "feedback"],
        ]
        let request = ModelRequest(model: id, prompt: "Judge the research.", schema: schema, metadata: .init(purpose: .judge, iteration: iteration))
        let value = try JSONParser.parse(try await model.generate(request) { _ in }.text)
        let scores = try #require(value["scores"]?.objectValue)
        let average = scores.values.compactMap(\.doubleValue).reduce(0, +) / Double(scores.count)
        #expect(abs(average - expected) < 0.05)
        #expect(value["feedback"]?.stringValue?.hasPrefix("[simulated]") == true)
    }

    @Test func cancellationEndsTheCallAtTheNextChunk() async throws {
        let slow = SimulatedModel(configuration: .init(chunkDelay: .seconds(30)))
        let task = Task {
            try await slow.generate(ModelRequest(model: id, prompt: "Write a long section.")) { _ in }
        }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
    }

    @Test func modelIDsParse() {
        #expect(ModelID(parsing: "openai:gpt-4o-mini") == ModelID(provider: "openai", name: "gpt-4o-mini"))
        #expect(ModelID(parsing: "ollama:llama3:8b")?.name == "llama3:8b")
        #expect(ModelID(parsing: "gpt-4o") == nil)
        #expect(ModelID(parsing: ":x") == nil)
    }

    @Test func routerSendsByProviderAndNamesMissingOnes() async throws {
        let router = ModelRouter(providers: ["fake": ScriptedModel(answer: "hello")])
        let response = try await router.generate(ModelRequest(model: ModelID(provider: "fake", name: "m"), prompt: "hi")) { _ in }
        #expect(response.text == "hello")
        await #expect(throws: ProviderError.self) {
            try await router.generate(ModelRequest(model: ModelID(provider: "nope", name: "m"), prompt: "hi")) { _ in }
        }
    }
}
