import SluiceFakeServices
import SluiceJSON
import Testing

@testable import SluiceProviders

@Suite("OpenAI-compatible model against a loopback fake")
struct OpenAICompatibleModelTests {
    let recorder = CallRecorder()

    func model(_ server: FakeHTTPServer, timeouts: HTTPTimeouts = HTTPTimeouts()) -> OpenAICompatibleModel {
        OpenAICompatibleModel(configuration: .init(baseURL: server.baseURL + "/v1", apiKey: "sk-test-secret-1234", timeouts: timeouts, retry: recorder.retryPolicy))
    }

    func request(schema: JSONValue? = nil) -> ModelRequest {
        ModelRequest(
            model: ModelID(provider: "openai", name: "gpt-4o-mini"), system: "Be brief.", prompt: "Say hello",
            schema: schema, temperature: 0.2, maxTokens: 100, metadata: .init(purpose: schema == nil ? .text : .structured, stepID: "draft")
        )
    }

    @Test func streamsTextAndReportsTheServicesUsage() async throws {
        let server = try FakeHTTPServer.scripted([FakeOpenAI.stream(["Hel", "lo", " there"], inputTokens: 21, outputTokens: 3)])
        defer { server.stop() }
        let response = try await recorder.generate(model(server), request())
        #expect(response.text == "Hello there")
        #expect(recorder.deltas == ["Hel", "lo", " there"])
        #expect(response.usage == ModelUsage(provider: "openai", model: "gpt-4o-mini", inputTokens: 21, outputTokens: 3))

        let sent = try #require(server.requests.first)
        #expect(sent.method == "POST")
        #expect(sent.path == "/v1/chat/completions")
        #expect(sent.header("authorization") == "Bearer sk-test-secret-1234")
        let body = try #require(sent.json)
        #expect(body["model"] == "gpt-4o-mini")
        #expect(body["stream"] == true)
        #expect(body["stream_options"]?["include_usage"] == true)
        #expect(body["max_tokens"] == 100)
        #expect(body["messages"] == [["role": "system", "content": "Be brief."], ["role": "user", "content": "Say hello"]])
        #expect(body["response_format"] == nil)
    }

    @Test func asksForAJSONSchemaAndReturnsTheValidatedJSON() async throws {
        let server = try FakeHTTPServer.scripted([FakeOpenAI.stream(["{\"title\": \"Q", "3\", \"sco", "re\": 8}"])])
        defer { server.stop() }
        let response = try await recorder.generate(model(server), request(schema: Schemas.article))
        #expect(try JSONParser.parse(response.text) == ["title": "Q3", "score": 8])
        let format = try #require(server.requests.first?.json?["response_format"])
        #expect(format["type"] == "json_schema")
        #expect(format["json_schema"]?["name"] == "draft")
        #expect(format["json_schema"]?["schema"] == Schemas.article)
    }

    @Test func repairsInvalidOutputOnceBySendingTheErrorsBack() async throws {
        let server = try FakeHTTPServer.scripted([
            FakeOpenAI.stream(["{\"title\": \"Q3\", \"score\": \"high\"}"], inputTokens: 10, outputTokens: 5),
            FakeOpenAI.stream(["{\"title\": \"Q3\", \"score\": 9}"], inputTokens: 30, outputTokens: 6),
        ])
        defer { server.stop() }
        let response = try await recorder.generate(model(server), request(schema: Schemas.article))
        #expect(try JSONParser.parse(response.text) == ["title": "Q3", "score": 9])
        #expect(response.usage.inputTokens == 40)
        #expect(response.usage.outputTokens == 11)
        let messages = try #require(server.requests.last?.json?["messages"]?.arrayValue)
        #expect(messages.count == 4)
        #expect(messages[2] == ["role": "assistant", "content": "{\"title\": \"Q3\", \"score\": \"high\"}"])
        let repair = try #require(messages[3]["content"]?.stringValue)
        #expect(repair.contains("/score"))
    }

    @Test func repairsOutputThatIsNotJSONAtAll() async throws {
        let server = try FakeHTTPServer.scripted([
            FakeOpenAI.stream(["Sure! Here is ", "the JSON: {"]),
            FakeOpenAI.stream(["{\"title\": \"ok\", \"score\": 1}"]),
        ])
        defer { server.stop() }
        let response = try await recorder.generate(model(server), request(schema: Schemas.article))
        #expect(try JSONParser.parse(response.text) == ["title": "ok", "score": 1])
        let repair = try #require(server.requests.last?.json?["messages"]?[3]?["content"]?.stringValue)
        #expect(repair.contains("not JSON"))
    }

    @Test func failsNamingTheStepAndTheErrorsWhenTheRepairsFailToo() async throws {
        let server = try FakeHTTPServer.scripted([FakeOpenAI.stream(["{\"title\": 5, \"score\": 1}"])])
        defer { server.stop() }
        let error = await #expect(throws: ProviderError.self) { try await recorder.generate(model(server), request(schema: Schemas.article)) }
        #expect(error?.code == .invalidResponse)
        #expect(error?.message.contains("step 'draft'") == true)
        #expect(error?.message.contains("/title") == true)
        #expect(server.requests.count == 1 + ModelRequest.defaultMaxRepairs)
    }

    @Test func fallsBackToJSONObjectWhenTheServiceLacksJSONSchema() async throws {
        let server = try FakeHTTPServer.scripted([
            FakeOpenAI.error(status: 400, message: "response_format type json_schema is not supported by this model"),
            FakeOpenAI.stream(["{\"title\": \"t\", \"score\": 2}"]),
        ])
        defer { server.stop() }
        let response = try await recorder.generate(model(server), request(schema: Schemas.article))
        #expect(try JSONParser.parse(response.text) == ["title": "t", "score": 2])
        let retried = try #require(server.requests.last?.json)
        #expect(retried["response_format"] == ["type": "json_object"])
        #expect(retried["messages"]?[0]?["content"]?.stringValue?.contains("JSON Schema") == true)
        #expect(recorder.retries.isEmpty)
    }

    @Test func adaptsToReasoningModelsRejectingParameters() async throws {
        let server = try FakeHTTPServer.scripted([
            FakeOpenAI.error(status: 400, message: "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead."),
            FakeOpenAI.error(status: 400, message: "Unsupported value: 'temperature' does not support 0.2 with this model. Only the default (1) value is supported."),
            FakeOpenAI.stream(["ok"]),
        ])
        defer { server.stop() }
        let model = model(server)
        #expect(try await recorder.generate(model, request()).text == "ok")
        let bodies = server.requests.compactMap(\.json)
        #expect(bodies.count == 3)
        #expect(bodies[2]["max_completion_tokens"] == 100)
        #expect(bodies[2]["max_tokens"] == nil)
        #expect(bodies[2]["temperature"] == nil)
        // Learned once: the next call goes straight to the adjusted form.
        _ = try await recorder.generate(model, request())
        #expect(server.requests.count == 4)
        #expect(server.requests[3].json?["max_completion_tokens"] == 100)
    }

    @Test func readsAWholeJSONAnswerFromAServiceThatIgnoresStreaming() async throws {
        let whole: JSONValue = [
            "id": "chatcmpl-1", "object": "chat.completion",
            "choices": [["index": 0, "message": ["role": "assistant", "content": "{\"title\": \"w\", \"score\": 3}"], "finish_reason": "stop"]],
            "usage": ["prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13],
        ]
        let server = try FakeHTTPServer.scripted([.json(whole)])
        defer { server.stop() }
        let response = try await recorder.generate(model(server), request(schema: Schemas.article))
        #expect(try JSONParser.parse(response.text) == ["title": "w", "score": 3])
        #expect(response.usage.inputTokens == 9)
        #expect(response.usage.outputTokens == 4)
    }

    @Test func honoursRetryAfterOn429() async throws {
        let server = try FakeHTTPServer.scripted([
            FakeOpenAI.error(status: 429, message: "Rate limit reached", type: "rate_limit_error", headers: [("Retry-After", "7")]),
            FakeOpenAI.stream(["ok"]),
        ])
        defer { server.stop() }
        let response = try await recorder.generate(model(server), request())
        #expect(response.text == "ok")
        #expect(recorder.sleeps == [.seconds(7)])
        let retry = try #require(recorder.retries.first)
        #expect(retry.attempt == 1)
        #expect(retry.code == .rateLimited)
        #expect(retry.reason.contains("429"))
        #expect(retry.metadata?.stepID == "draft")
    }

    @Test func retries500WithBackoffThenSucceeds() async throws {
        let server = try FakeHTTPServer.scripted([
            FakeOpenAI.error(status: 500, message: "boom", type: "server_error"),
            FakeOpenAI.error(status: 503, message: "busy", type: "server_error"),
            FakeOpenAI.stream(["fine"]),
        ])
        defer { server.stop() }
        let response = try await recorder.generate(model(server), request())
        #expect(response.text == "fine")
        // Half fixed, half random (0.5 here): 100ms → 75ms, then 200ms → 150ms.
        #expect(recorder.sleeps == [.milliseconds(75), .milliseconds(150)])
        #expect(recorder.retries.map(\.attempt) == [1, 2])
    }

    @Test(arguments: [400, 401, 403, 404, 422])
    func neverRetriesOtherClientErrors(status: Int) async throws {
        let server = try FakeHTTPServer.scripted([FakeOpenAI.error(status: status, message: "nope"), FakeOpenAI.stream(["unreached"])])
        defer { server.stop() }
        let error = await #expect(throws: ProviderError.self) { try await recorder.generate(model(server), request()) }
        #expect(error?.isRetryable == false)
        #expect(error?.message.contains("nope") == true)
        #expect(server.requests.count == 1)
    }

    @Test func neverShowsTheKeyInErrors() async throws {
        let server = try FakeHTTPServer.scripted([FakeOpenAI.error(status: 401, message: "Incorrect API key provided: sk-test-secret-1234")])
        defer { server.stop() }
        let error = await #expect(throws: ProviderError.self) { try await recorder.generate(model(server), request()) }
        #expect(error?.code == .unauthorized)
        #expect(error?.message.contains("sk-test-secret-1234") == false)
        #expect(error?.message.contains("[redacted]") == true)
    }

    @Test func aStreamCutOffBeforeAnyTextIsRetried() async throws {
        let server = try FakeHTTPServer.scripted([FakeOpenAI.stream(["a", "b"], cutOffAfter: 0), FakeOpenAI.stream(["whole"])])
        defer { server.stop() }
        let response = try await recorder.generate(model(server), request())
        #expect(response.text == "whole")
        #expect(recorder.retries.first?.code == .transient)
    }

    @Test func aStreamCutOffAfterTextFailsWithoutRepeatingIt() async throws {
        let server = try FakeHTTPServer.scripted([FakeOpenAI.stream(["a", "b", "c"], cutOffAfter: 2), FakeOpenAI.stream(["unreached"])])
        defer { server.stop() }
        let error = await #expect(throws: ProviderError.self) { try await recorder.generate(model(server), request()) }
        #expect(error?.code == .transient)
        #expect(recorder.deltas == ["a", "b"])
        #expect(server.requests.count == 1)
    }

    @Test func timeoutsAreReportedAsTimeouts() async throws {
        let server = try FakeHTTPServer.scripted([FakeOpenAI.stream(["a", "b"], pause: .seconds(5))])
        defer { server.stop() }
        let model = OpenAICompatibleModel(configuration: .init(baseURL: server.baseURL + "/v1", apiKey: "k", timeouts: HTTPTimeouts(idle: .milliseconds(150)), retry: .none))
        let error = await #expect(throws: ProviderError.self) { try await recorder.generate(model, request()) }
        #expect(error?.code == .timeout)
        #expect(error?.message.contains("stalled") == true)
    }

    @Test func cancellingMidStreamEndsTheCall() async throws {
        let server = try FakeHTTPServer.scripted([FakeOpenAI.stream((0..<20_000).map { "w\($0) " }, pause: .milliseconds(20))])
        defer { server.stop() }
        let model = model(server)
        let request = request()
        let (firstDelta, signal) = AsyncStream.makeStream(of: Void.self)
        let task = Task { try await model.generate(request) { _ in signal.yield() } }
        for await _ in firstDelta { break }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
    }
}
