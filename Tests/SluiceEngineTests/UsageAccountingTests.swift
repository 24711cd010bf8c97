import SluiceEngine
import SluiceJSON
import SluicePlan
import SluiceProviders
import SluiceRunLog
import SluiceTesting
import Testing

/// Every call a provider tells of is counted in the run's usage and has its `model.usage`,
/// whatever becomes of the request — a failed run reports what it spent.
@Suite struct UsageAccountingTests {
    /// A provider that answers with several calls, tells of each, then fails or answers.
    struct TellingModel: ModelProvider {
        var calls: [ModelCall.Outcome]
        var fails: Bool
        var truncated = false

        func generate(_ request: ModelRequest, onDelta: @Sendable (String) async throws -> Void) async throws -> ModelResponse {
            var total = ModelUsage(provider: "fake", model: request.model.name, inputTokens: 0, outputTokens: 0)
            for (index, outcome) in calls.enumerated() {
                let usage = ModelUsage(provider: "fake", model: request.model.name, inputTokens: 100 + index, outputTokens: 50)
                total.inputTokens += usage.inputTokens
                total.outputTokens += usage.outputTokens
                request.onCall?(ModelCall(usage: usage, attempt: index + 1, outcome: outcome, truncated: outcome == .truncated, finishReason: outcome == .truncated ? "length" : "stop"))
            }
            if fails { throw ProviderError(.invalidResponse, "no answer fits", provider: "fake") }
            var response = ModelResponse(text: request.schema == nil ? "text" : #"{"ok": true}"#, usage: total, truncated: truncated, finishReason: truncated ? "length" : "stop")
            response.callsReported = calls.count
            return response
        }
    }

    static let structuredPlan = """
        {"name": "one", "models": {"default": "x:m"}, "steps": [{"id": "ask", "kind": "llm", "prompt": "Say", "max_repairs": 1,
          "schema": {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}}]}
        """

    @Test func aFailedRequestStillCountsItsCalls() async throws {
        let plan = try Harness.plan(Self.structuredPlan)
        let model = TellingModel(calls: [.invalid, .truncated], fails: true)
        let (outcome, events) = await Harness.run(plan, providers: Harness.providers(model: model))
        #expect(outcome.status == .failed)
        let usage = events.of(.modelUsage)
        #expect(usage.map { $0.data["outcome"]?.stringValue } == ["invalid", "truncated"])
        #expect(usage.map { $0.data["attempt"]?.integerValue } == [1, 2])
        #expect(usage.last?.data["truncated"] == true)
        #expect(usage.last?.data["finish_reason"] == "length")
        let failed = try #require(events.last)
        #expect(failed.type == .runFailed)
        #expect(failed.data["usage"]?["model_calls"] == 2)
        #expect(failed.data["usage"]?["input_tokens"] == 201)
        #expect(failed.data["usage"]?["output_tokens"] == 100)
        #expect(outcome.usage.modelCalls == 2)
    }

    @Test func repairedCallsAreCountedOnceEach() async throws {
        let plan = try Harness.plan(Self.structuredPlan)
        let model = TellingModel(calls: [.invalid, .repaired], fails: false)
        let (outcome, events) = await Harness.run(plan, providers: Harness.providers(model: model))
        #expect(outcome.status == .completed)
        #expect(events.of(.modelUsage).count == 2, "not a third event for the response")
        #expect(outcome.usage.modelCalls == 2)
        #expect(outcome.usage.inputTokens == 201)
    }

    @Test func aProviderThatTellsOfNoCallsIsCountedFromItsResponse() async throws {
        let plan = try Harness.plan(#"{"name": "one", "models": {"default": "x:m"}, "steps": [{"id": "ask", "kind": "llm", "prompt": "Say"}]}"#)
        let (outcome, events) = await Harness.run(plan)
        #expect(outcome.status == .completed)
        let usage = try #require(events.of(.modelUsage).first)
        #expect(usage.data["attempt"] == 1)
        #expect(usage.data["outcome"] == "accepted")
        #expect(outcome.usage.modelCalls == 1)
    }

    /// The provider decides what a cut-off text gets; whichever answer it returns as truncated
    /// is marked so in `step.completed`.
    @Test(arguments: ["accept", "continue", "fail"])
    func aTruncatedTextIsMarkedInStepCompleted(_ setting: String) async throws {
        let plan = try Harness.plan(#"{"name": "one", "models": {"default": "x:m"}, "steps": [{"id": "ask", "kind": "llm", "prompt": "Say", "on_truncation": "\#(setting)"}]}"#)
        let model = TellingModel(calls: [.accepted], fails: false, truncated: true)
        let (outcome, events) = await Harness.run(plan, providers: Harness.providers(model: model))
        #expect(outcome.status == .completed)
        #expect(events.of(.stepCompleted, step: "ask").first?.data["truncated"] == true)
    }

    @Test(arguments: [("continue", "continue(maxContinuations: 2)"), ("fail", "fail"), ("accept", "accept"), (nil, "continue(maxContinuations: 2)")] as [(String?, String)])
    func onTruncationBecomesTheRequestsHandling(_ setting: String?, _ expected: String) async throws {
        let field = setting.map { #", "on_truncation": "\#($0)""# } ?? ""
        let plan = try Harness.plan(#"{"name": "one", "models": {"default": "x:m"}, "steps": [{"id": "ask", "kind": "llm", "prompt": "Say", "max_repairs": 4\#(field)}]}"#)
        let model = ScriptedModel(answer: "fine")
        _ = await Harness.run(plan, providers: Harness.providers(model: model))
        let request = try #require(model.requests.first)
        #expect("\(request.onTruncation)" == expected)
        #expect(request.maxRepairs == 4)
    }

    @Test func thePlansModelSetsTheDefaultAndAStepsOwnSettingWins() async throws {
        let plan = try Harness.plan(#"""
            {"name": "one", "models": {"default": {"model": "x:m", "on_truncation": "fail", "max_repairs": 0}},
             "steps": [{"id": "inherits", "kind": "llm", "prompt": "Say"},
                       {"id": "own", "kind": "llm", "prompt": "Say", "on_truncation": "accept", "max_repairs": 3}]}
            """#)
        let model = ScriptedModel(answer: "fine")
        _ = await Harness.run(plan, providers: Harness.providers(model: model))
        let requests = model.requests
        #expect(requests.map { "\($0.onTruncation)" } == ["fail", "accept"])
        #expect(requests.map(\.maxRepairs) == [0, 3])
    }
}
