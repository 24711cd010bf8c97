import SluiceFakeServices
import SluiceJSON
import Synchronization
import Testing

@testable import SluiceProviders

/// Real providers against fake services that misbehave as real models do: every answered
/// call is told of (and its usage equals what the fake served), and each misbehaviour is
/// recovered from or fails as documented (docs/plan-reference.md, "Answers that do not fit").
@Suite("Misbehaving models: every call counted, answers that do not fit")
struct MisbehaviourTests {
    /// One misbehaviour scenario and what must come of it.
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var misbehaviours: [Misbehaviour]
        var structured: Bool
        var onTruncation: TruncationHandling = .continue(maxContinuations: TruncationHandling.defaultContinuations)
        /// The outcome of each call, in order.
        var outcomes: [ModelCall.Outcome]
        var succeeds: Bool
        /// Whether the last answer used is marked truncated (text steps).
        var truncated = false
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "structured, truncated once: repaired", misbehaviours: [.truncated], structured: true, outcomes: [.truncated, .repaired], succeeds: true),
        Case(name: "structured, truncated every time: fails after two repairs", misbehaviours: [.truncated, .truncated, .truncated], structured: true,
             outcomes: [.truncated, .truncated, .truncated], succeeds: false),
        Case(name: "structured, looping: cut off, repaired", misbehaviours: [.repetition], structured: true, outcomes: [.invalid, .repaired], succeeds: true),
        Case(name: "structured, code fence: extracted", misbehaviours: [.codeFence], structured: true, outcomes: [.accepted], succeeds: true),
        Case(name: "structured, prose before: extracted", misbehaviours: [.leadingProse], structured: true, outcomes: [.accepted], succeeds: true),
        Case(name: "structured, prose after: extracted", misbehaviours: [.trailingProse], structured: true, outcomes: [.accepted], succeeds: true),
        Case(name: "structured, missing field: repaired", misbehaviours: [.missingField], structured: true, outcomes: [.invalid, .repaired], succeeds: true),
        Case(name: "structured, mistyped field: repaired", misbehaviours: [.mistypedField], structured: true, outcomes: [.invalid, .repaired], succeeds: true),
        Case(name: "structured, empty then missing field: repaired twice", misbehaviours: [.empty, .missingField], structured: true,
             outcomes: [.invalid, .invalid, .repaired], succeeds: true),
        Case(name: "text, truncated once: continued", misbehaviours: [.truncated], structured: false, outcomes: [.truncated, .accepted], succeeds: true),
        Case(name: "text, truncated every time: used after two continuations", misbehaviours: [.truncated, .truncated, .truncated], structured: false,
             outcomes: [.truncated, .truncated, .accepted], succeeds: true, truncated: true),
        Case(name: "text, truncated, accept", misbehaviours: [.truncated], structured: false, onTruncation: .accept, outcomes: [.accepted], succeeds: true, truncated: true),
        Case(name: "text, truncated, fail", misbehaviours: [.truncated], structured: false, onTruncation: .fail, outcomes: [.truncated], succeeds: false),
        Case(name: "text, looping: cut off, fails", misbehaviours: [.repetition], structured: false, outcomes: [.invalid], succeeds: false),
        Case(name: "structured, refusal: counted, fails", misbehaviours: [.refusal], structured: true, outcomes: [.invalid], succeeds: false),
        Case(name: "text, refusal: counted, fails", misbehaviours: [.refusal], structured: false, outcomes: [.invalid], succeeds: false),
    ]

    final class Calls: Sendable {
        private let list = Mutex<[ModelCall]>([])
        var all: [ModelCall] { list.withLock { $0 } }
        func add(_ call: ModelCall) { list.withLock { $0.append(call) } }
    }

    /// Each provider, streamed and answering whole JSON (a service that ignores `stream`).
    static let services: [(model: String, streaming: Bool)] = [
        ("openai:gpt-4o-mini", true), ("openai:gpt-4o-mini", false),
        ("anthropic:claude-sonnet-4-5", true), ("anthropic:claude-sonnet-4-5", false),
    ]

    @Test(arguments: cases, services)
    func aMisbehaviourIsHandledAndEveryCallCounted(_ scenario: Case, service: (model: String, streaming: Bool)) async throws {
        let (model, streaming) = service
        let services = try SimulatedServices(streaming: streaming)
        defer { services.stop() }
        services.modelBehaviour.misbehave(scenario.misbehaviours)
        let factory = ProviderFactory(configuration: ProviderConfiguration(values: services.environment))
        let calls = Calls()
        var request = ModelRequest(
            model: try factory.requireModel(model), prompt: "Task: AI agents this week", schema: scenario.structured ? Schemas.article : JSONValue?.none,
            temperature: 0.8, maxTokens: 400, metadata: .init(purpose: scenario.structured ? .structured : .text, stepID: "step"))
        request.onTruncation = scenario.onTruncation
        request.onCall = { calls.add($0) }
        let result: Result<ModelResponse, any Error>
        do {
            result = .success(try await factory.modelRouter().generate(request) { _ in })
        } catch {
            result = .failure(error)
        }
        let told = calls.all
        #expect(told.map(\.outcome) == scenario.outcomes)
        #expect(told.map(\.attempt) == Array(1...max(1, told.count)))
        #expect(services.modelBehaviour.pending == 0, "every misbehaviour was served")
        let served = services.modelBehaviour.served
        #expect(told.count == served.calls)
        // A looping stream is cut off before the service's usage arrives: its tokens are estimated.
        if !(streaming && scenario.misbehaviours.contains(.repetition)) {
            #expect(told.map(\.usage.inputTokens).reduce(0, +) == served.inputTokens)
            #expect(told.map(\.usage.outputTokens).reduce(0, +) == served.outputTokens)
        }
        switch result {
        case .success(let response):
            #expect(scenario.succeeds)
            #expect(response.callsReported == told.count)
            #expect(response.usage.inputTokens == told.map(\.usage.inputTokens).reduce(0, +))
            #expect(response.truncated == scenario.truncated)
            if scenario.structured {
                let value = try JSONParser.parse(response.text)
                #expect(value["title"]?.stringValue != nil)
                #expect(value["score"]?.integerValue != nil)
            } else {
                #expect(!response.text.isEmpty)
            }
        case .failure(let error):
            #expect(!scenario.succeeds, "\(error)")
            #expect((error as? ProviderError)?.code == .invalidResponse, "\(error)")
        }
    }

    @Test func eachRepairChangesTheRequest() async throws {
        let services = try SimulatedServices()
        defer { services.stop() }
        services.modelBehaviour.misbehave([.truncated, .missingField])
        let factory = ProviderFactory(configuration: ProviderConfiguration(values: services.environment))
        let request = ModelRequest(
            model: try factory.requireModel("openai:gpt-4o-mini"), prompt: "Task: AI agents this week", schema: Schemas.article,
            temperature: 0.8, maxTokens: 400)
        _ = try await factory.modelRouter().generate(request) { _ in }
        let bodies = services.models.requests.compactMap(\.json)
        #expect(bodies.count == 3)
        #expect(bodies.map { $0["max_tokens"]?.integerValue } == [400, 800, 800], "a truncated answer gets more room")
        #expect(bodies.map { $0["temperature"]?.doubleValue } == [0.8, 0.4, 0.2])
        let second = bodies[1]["messages"]?.arrayValue ?? []
        #expect(second.count == 1, "a cut-off answer is not sent back")
        #expect(second.last?["content"]?.stringValue?.contains("cut off") == true)
        let third = bodies[2]["messages"]?.arrayValue ?? []
        #expect(third.count == 3, "an invalid answer is sent back with its errors")
        #expect(third.last?["content"]?.stringValue?.contains("not valid against the JSON Schema") == true)
    }

    @Test func aTextContinuationCarriesTheAnswerSoFar() async throws {
        let services = try SimulatedServices()
        defer { services.stop() }
        services.modelBehaviour.misbehave([.truncated])
        let factory = ProviderFactory(configuration: ProviderConfiguration(values: services.environment))
        let request = ModelRequest(model: try factory.requireModel("anthropic:claude-sonnet-4-5"), prompt: "Task: AI agents this week")
        let response = try await factory.modelRouter().generate(request) { _ in }
        let bodies = services.models.requests.compactMap(\.json)
        let messages = try #require(bodies.last?["messages"]?.arrayValue)
        #expect(messages.map { $0["role"]?.stringValue } == ["user", "assistant", "user"])
        let partial = try #require(messages[1]["content"]?.stringValue)
        #expect(response.text.hasPrefix(partial))
        #expect(response.text.count > partial.count)
    }

    @Test(arguments: [
        ("{\"a\": 1}", "{\"a\": 1}"),
        ("```json\n{\"a\": 1}\n```", "{\"a\": 1}"),
        ("```\n[1, 2]\n```\nDone.", "[1, 2]"),
        ("Here it is: {\"a\": \"}\"} — enjoy", "{\"a\": \"}\"}"),
        ("{\"a\": {\"b\": [1, {\"c\": \"\\\"\"}]}} trailing", "{\"a\": {\"b\": [1, {\"c\": \"\\\"\"}]}}"),
        ("no json at all", "no json at all"),
        ("{\"cut\": \"off", "{\"cut\": \"off"),
    ])
    func jsonIsExtractedFromAroundProseAndFences(_ text: String, _ expected: String) {
        #expect(String(AnswerText.jsonCandidate(in: text)) == expected)
    }

    @Test func loopsAreNoticedAndOrdinaryTextIsNot() {
        var detector = RepetitionDetector()
        var looping = "The landscape of agents: "
        var seen = false
        while looping.utf8.count < 4000 {
            looping += Misbehaviour.loopSpan
            if detector.isLooping(looping) { seen = true; break }
        }
        #expect(seen)
        #expect(looping.utf8.count >= RepetitionDetector.minimumRun)
        // A long table and varied prose do not trip it.
        let table = (1...120).map { "| row \($0) | value \($0 * 7) |" }.joined(separator: "\n")
        #expect(!RepetitionDetector.endsInLoop(Array(table.utf8)))
        let prose = (1...200).map { "Sentence \($0) says something about item \($0 % 13)." }.joined(separator: " ")
        #expect(!RepetitionDetector.endsInLoop(Array(prose.utf8)))
    }
}
