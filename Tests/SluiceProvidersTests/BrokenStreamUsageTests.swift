import SluiceFakeServices
import SluiceJSON
import Synchronization
import Testing

@testable import SluiceProviders

/// Calls whose stream breaks off or is cancelled were still answered, in part, and are paid
/// for: each is told of with what streamed.
@Suite(.timeLimit(.minutes(1))) struct BrokenStreamUsageTests {
    let recorder = CallRecorder()

    func model(_ server: FakeHTTPServer) -> OpenAICompatibleModel {
        OpenAICompatibleModel(configuration: .init(baseURL: server.baseURL + "/v1", apiKey: "sk-test", retry: recorder.retryPolicy))
    }

    func request(stream: Bool, calls: MisbehaviourTests.Calls) -> ModelRequest {
        var request = ModelRequest(model: ModelID(provider: "openai", name: "gpt-4o-mini"), prompt: "Say hello", stream: stream)
        request.onCall = { calls.add($0) }
        return request
    }

    @Test func aStreamThatBrokeOffIsCountedAndTheRetryToo() async throws {
        let server = try FakeHTTPServer.scripted([
            FakeOpenAI.stream(["Hello ", "there, ", "world"], cutOffAfter: 2),
            FakeOpenAI.stream(["Hello world"], inputTokens: 5, outputTokens: 2),
        ])
        defer { server.stop() }
        let calls = MisbehaviourTests.Calls()
        // Not streamed to the caller, so the provider may retry the broken stream.
        let response = try await model(server).generate(request(stream: false, calls: calls)) { _ in }
        #expect(response.text == "Hello world")
        let told = calls.all
        #expect(told.map(\.outcome) == [.interrupted, .accepted])
        #expect(told.map(\.attempt) == [1, 1], "a retried stream keeps its attempt's number")
        #expect(told[0].usage.outputTokens > 0, "what streamed before the break is counted (estimated)")
        #expect(response.callsReported == 2)
    }

    @Test func aCancelledStreamIsCountedUpToWhereItStopped() async throws {
        // The first piece comes at once; the next only after a pause the test never waits out.
        let server = try FakeHTTPServer.scripted([FakeOpenAI.generatedStream(count: 3, pause: .seconds(120)) { "piece \($0) " }])
        defer { server.stop() }
        let calls = MisbehaviourTests.Calls()
        let (firstDelta, arrived) = AsyncStream.makeStream(of: Void.self)
        let model = model(server)
        let request = request(stream: true, calls: calls)
        let call = Task {
            try await model.generate(request) { _ in arrived.yield() }
        }
        for await _ in firstDelta { break }
        call.cancel()
        let result = await call.result
        #expect(throws: CancellationError.self) { try result.get() }
        let told = calls.all
        #expect(told.map(\.outcome) == [.cancelled])
        #expect(told.first?.usage.outputTokens ?? 0 > 0)
    }
}
