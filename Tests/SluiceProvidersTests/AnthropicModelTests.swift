import SluiceFakeServices
import SluiceJSON
import Testing

@testable import SluiceProviders

@Suite("Anthropic model against a loopback fake")
struct AnthropicModelTests {
    let recorder = CallRecorder()

    func model(_ server: FakeHTTPServer) -> AnthropicModel {
        AnthropicModel(configuration: .init(baseURL: server.baseURL, apiKey: "sk-ant-test-5678", retry: recorder.retryPolicy))
    }

    func request(schema: JSONValue? = nil, maxTokens: Int? = nil) -> ModelRequest {
        ModelRequest(
            model: ModelID(provider: "anthropic", name: "claude-sonnet-4-5"), system: "Be brief.", prompt: "Say hello",
            schema: schema, maxTokens: maxTokens, metadata: .init(purpose: .text, stepID: "summary")
        )
    }

    @Test func streamsTextWithTheRightHeadersAndUsage() async throws {
        let server = try FakeHTTPServer.scripted([FakeAnthropic.textStream(["Hi", " there"], inputTokens: 40, outputTokens: 5)])
        defer { server.stop() }
        let response = try await recorder.generate(model(server), request())
        #expect(response.text == "Hi there")
        #expect(recorder.deltas == ["Hi", " there"])
        #expect(response.usage == ModelUsage(provider: "anthropic", model: "claude-sonnet-4-5", inputTokens: 40, outputTokens: 5))
        let sent = try #require(server.requests.first)
        #expect(sent.method == "POST")
        #expect(sent.path == "/v1/messages")
        #expect(sent.header("x-api-key") == "sk-ant-test-5678")
        #expect(sent.header("anthropic-version") == "2023-06-01")
        #expect(sent.header("authorization") == nil)
        let body = try #require(sent.json)
        #expect(body["model"] == "claude-sonnet-4-5")
        #expect(body["system"] == "Be brief.")
        #expect(body["stream"] == true)
        #expect(body["max_tokens"] == 8192)
        #expect(body["messages"] == [["role": "user", "content": "Say hello"]])
        #expect(body["tools"] == nil)
    }

    @Test func forcesAToolForStructuredOutput() async throws {
        let server = try FakeHTTPServer.scripted([FakeAnthropic.toolStream(["{\"title\": ", "\"Q3\", \"score\": 4}"])])
        defer { server.stop() }
        let response = try await recorder.generate(model(server), request(schema: Schemas.article, maxTokens: 500))
        #expect(try JSONParser.parse(response.text) == ["title": "Q3", "score": 4])
        let body = try #require(server.requests.first?.json)
        #expect(body["max_tokens"] == 500)
        #expect(body["tools"]?[0]?["input_schema"] == Schemas.article)
        #expect(body["tool_choice"] == ["type": "tool", "name": "structured_output"])
    }

    @Test func wrapsASchemaWhoseRootIsNotAnObject() async throws {
        let schema: JSONValue = ["type": "array", "items": ["type": "string"]]
        let server = try FakeHTTPServer.scripted([FakeAnthropic.toolStream(["{\"value\": [\"a\", \"b\"]}"])])
        defer { server.stop() }
        let response = try await recorder.generate(model(server), request(schema: schema))
        #expect(try JSONParser.parse(response.text) == ["a", "b"])
        let sentSchema = try #require(server.requests.first?.json?["tools"]?[0]?["input_schema"])
        #expect(sentSchema == ["type": "object", "properties": ["value": schema], "required": ["value"]])
    }

    @Test func repairsAnInvalidToolInput() async throws {
        let server = try FakeHTTPServer.scripted([
            FakeAnthropic.toolStream(["{\"title\": \"Q3\"}"]),
            FakeAnthropic.toolStream(["{\"title\": \"Q3\", \"score\": 2}"]),
        ])
        defer { server.stop() }
        let response = try await recorder.generate(model(server), request(schema: Schemas.article))
        #expect(try JSONParser.parse(response.text) == ["title": "Q3", "score": 2])
        let messages = try #require(server.requests.last?.json?["messages"]?.arrayValue)
        #expect(messages.map { $0["role"] } == ["user", "assistant", "user"])
        #expect(messages[2]["content"]?.stringValue?.contains("score") == true)
    }

    @Test func readsAWholeMessageFromAServiceThatIgnoresStreaming() async throws {
        let whole: JSONValue = [
            "id": "msg_1", "type": "message", "role": "assistant",
            "content": [["type": "tool_use", "id": "toolu_1", "name": "structured_output", "input": ["title": "Q3", "score": 5]]],
            "usage": ["input_tokens": 30, "output_tokens": 12],
        ]
        let server = try FakeHTTPServer.scripted([.json(whole)])
        defer { server.stop() }
        let response = try await recorder.generate(model(server), request(schema: Schemas.article))
        #expect(try JSONParser.parse(response.text) == ["title": "Q3", "score": 5])
        #expect(response.usage.inputTokens == 30)
    }

    @Test func retriesWhenOverloaded() async throws {
        let server = try FakeHTTPServer.scripted([
            FakeAnthropic.error(status: 529, type: "overloaded_error", message: "Overloaded"),
            FakeAnthropic.textStream(["ok"]),
        ])
        defer { server.stop() }
        let response = try await recorder.generate(model(server), request())
        #expect(response.text == "ok")
        #expect(recorder.retries.first?.reason.contains("Overloaded") == true)
    }

    @Test func anErrorEventMidStreamFails() async throws {
        let error: FakeResponse = .eventStream([
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}",
            "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":\"bad things\"}}",
        ])
        let server = try FakeHTTPServer.scripted([error])
        defer { server.stop() }
        let failure = await #expect(throws: ProviderError.self) { try await recorder.generate(model(server), request()) }
        #expect(failure?.message.contains("bad things") == true)
        #expect(server.requests.count == 1)
    }
}
