import Foundation
import SluiceEngine
import SluiceJSON
import SluicePlan
import SluiceProviders
import SluiceRunLog
import SluiceTesting
import Synchronization
import Testing

/// Retries, timeouts, budgets and cancellation.
@Suite(.timeLimit(.minutes(2))) struct LimitsTests {
    @Test func transientProviderErrorsAreRetriedWithBackoff() async throws {
        let plan = try Harness.plan(#"""
        {"name": "p", "models": {"default": "x:m"},
         "steps": [{"id": "s", "kind": "llm", "prompt": "hi", "retry": {"max_attempts": 3, "initial_delay_ms": 2, "max_delay_ms": 3}}]}
        """#)
        let model = ScriptedModel { _, call in
            if call < 3 { throw ProviderError(.transient, "connection reset", provider: "x") }
            return "fine"
        }
        let (outcome, events) = await Harness.run(plan, providers: Harness.providers(model: model))
        #expect(outcome.status == .completed)
        let retries = events.of(.stepRetrying)
        #expect(retries.map(\.data["attempt"]) == [1, 2])
        #expect(retries.allSatisfy { $0.data["max_attempts"] == 3 && $0.data["reason"]?.stringValue?.contains("connection reset") == true })
        #expect(retries.map(\.data["delay_ms"]) == [1, 2], "2 ms then 4 ms capped at 3, times the jitter factor 0.75")
        #expect(EventInvariants.violations(events) == [])
    }

    @Test func permanentErrorsAreNotRetried() async throws {
        let plan = try Harness.plan(#"""
        {"name": "p", "models": {"default": "x:m"},
         "steps": [{"id": "s", "kind": "llm", "prompt": "hi", "retry": {"max_attempts": 3, "initial_delay_ms": 1, "max_delay_ms": 1}}]}
        """#)
        let model = ScriptedModel { _, _ in throw ProviderError(.unauthorized, "bad key", provider: "x") }
        let (outcome, events) = await Harness.run(plan, providers: Harness.providers(model: model))
        #expect(outcome.status == .failed)
        #expect(outcome.failure?.kind == .providerError)
        #expect(outcome.failure?.step == "s")
        #expect(events.of(.stepRetrying).isEmpty)
        #expect(model.requests.count == 1)
        #expect(outcome.billing["billable"] == false)
    }

    @Test func aStepOverItsTimeoutFailsAndTheModelSeesCancellation() async throws {
        let plan = try Harness.plan(#"""
        {"name": "p", "models": {"default": "x:m"},
         "steps": [{"id": "slow", "kind": "llm", "prompt": "hi", "timeout_seconds": 0.05}]}
        """#)
        let model = HangingModel()
        let (outcome, events) = await Harness.run(plan, providers: Harness.providers(model: model))
        #expect(outcome.status == .failed)
        #expect(outcome.failure?.kind == .timeout)
        #expect(model.cancelledCalls == 1)
        #expect(events.of(.stepFailed, step: "slow").first?.data["error"]?["type"] == "timeout")
        #expect(EventInvariants.violations(events) == [])
    }

    /// A step's timeout cancels only that attempt: the retry runs and so does the rest of the run.
    @Test func aStepThatTimesOutIsRetriedAndTheRunGoesOn() async throws {
        let plan = try Harness.plan(#"""
        {"name": "p", "models": {"default": "x:m"},
         "steps": [{"id": "slow", "kind": "llm", "prompt": "hi", "timeout_seconds": 0.05,
                    "retry": {"max_attempts": 2, "initial_delay_ms": 1, "max_delay_ms": 1}},
                   {"id": "after", "kind": "set", "value": "${steps.slow.output + '!'}"}]}
        """#)
        let model = FirstCallHangsModel()
        let (outcome, events) = await Harness.run(plan, providers: Harness.providers(model: model))
        #expect(outcome.status == .completed)
        #expect(outcome.result?["after"] == "answered!")
        #expect(model.calls == 2)
        #expect(events.of(.stepRetrying, step: "slow").first?.data["reason"]?.stringValue?.contains("timeout_seconds") == true)
        #expect(EventInvariants.violations(events) == [])
    }

    /// Steps that finish in time are never cut short, however many timers run at once.
    @Test func stepsThatFinishInTimeAreNotTimedOut() async throws {
        let plan = try Harness.plan(#"""
        {"name": "p", "models": {"default": "x:m"}, "budget": {"timeout_seconds": 60},
         "steps": [{"id": "each", "kind": "map", "over": "inputs.items", "concurrency": 16,
                    "steps": [{"id": "say", "kind": "llm", "prompt": "item {{item}}", "timeout_seconds": 30}]}]}
        """#)
        let model = ScriptedModel(delay: .milliseconds(1)) { _, call in "answer \(call)" }
        let inputs: JSONValue = ["items": .array((0..<200).map { .integer(Int64($0)) })]
        let (outcome, events) = await Harness.run(plan, inputs: inputs, providers: Harness.providers(model: model))
        #expect(outcome.status == .completed)
        #expect(events.of(.stepCompleted, step: "say").count == 200)
        #expect(events.of(.stepFailed).isEmpty)
    }

    @Test func aRunOverItsTimeoutFails() async throws {
        let plan = try Harness.plan(#"""
        {"name": "p", "models": {"default": "x:m"}, "budget": {"timeout_seconds": 0.05},
         "steps": [{"id": "first", "kind": "set", "value": 1}, {"id": "slow", "kind": "llm", "prompt": "hi"}]}
        """#)
        let (outcome, events) = await Harness.run(plan, providers: Harness.providers(model: HangingModel()))
        #expect(outcome.status == .failed)
        #expect(outcome.failure?.kind == .timeout)
        #expect(outcome.partial["first"] == 1)
        #expect(events.last?.type == .runFailed)
        #expect(EventInvariants.violations(events) == [])
    }

    @Test func aRunOverItsTokenBudgetStopsAndKeepsThePartialOutput() async throws {
        let plan = try Harness.plan(#"""
        {"name": "p", "models": {"default": "x:m"}, "budget": {"max_tokens": 50},
         "steps": [
           {"id": "one", "kind": "llm", "prompt": "short"},
           {"id": "two", "kind": "llm", "prompt": "short"},
           {"id": "three", "kind": "llm", "prompt": "never reached"}
         ]}
        """#)
        let model = ScriptedModel { _, _ in String(repeating: "word ", count: 20) }
        let (outcome, events) = await Harness.run(plan, providers: Harness.providers(model: model))
        #expect(outcome.status == .failed)
        #expect(outcome.failure?.kind == .budgetExceeded)
        #expect(outcome.failure?.step == "two")
        #expect(outcome.partial["one"] != nil)
        #expect(outcome.partial["three"] == nil)
        let failed = try #require(events.last)
        #expect(failed.type == .runFailed)
        #expect(failed.data["error"]?["type"] == "budget_exceeded")
        #expect(failed.data["partial"]?["one"] != nil)
        #expect(failed.data["billing"]?["billable"] == false)
        #expect(events.of(.modelUsage).count == 2, "the call that went over is still reported")
        #expect(EventInvariants.violations(events) == [])
    }

    @Test func aRunOverItsCostBudgetStops() async throws {
        let plan = try Harness.plan(#"""
        {"name": "p", "models": {"default": "openai:gpt-4o"}, "budget": {"max_cost_usd": 0.0001},
         "steps": [{"id": "one", "kind": "llm", "prompt": "short"}]}
        """#)
        let model = ScriptedModel { _, _ in String(repeating: "word ", count: 200) }
        let (outcome, _) = await Harness.run(plan, providers: Harness.providers(model: model))
        #expect(outcome.failure?.kind == .budgetExceeded)
        #expect(outcome.failure?.message.contains("max_cost_usd") == true)
    }

    @Test func aRunOverItsStepBudgetStops() async throws {
        let plan = try Harness.plan(#"""
        {"name": "p", "budget": {"max_steps": 3},
         "steps": [{"id": "each", "kind": "map", "over": "[1, 2, 3, 4]", "concurrency": 1, "steps": [{"id": "x", "kind": "set", "value": 1}]}]}
        """#)
        let (outcome, events) = await Harness.run(plan)
        #expect(outcome.failure?.kind == .budgetExceeded)
        #expect(outcome.failure?.message.contains("max_steps") == true)
        #expect(EventInvariants.violations(events) == [])
    }

    @Test func cancellingTheRunStopsInFlightCallsAndEndsWithRunCancelled() async throws {
        let plan = try Harness.plan(#"""
        {"name": "p", "models": {"default": "x:m"},
         "steps": [{"id": "each", "kind": "map", "over": "[1, 2, 3]", "steps": [{"id": "slow", "kind": "llm", "prompt": "hi"}]}]}
        """#)
        let model = HangingModel()
        let sink = RecordingEventSink()
        let engine = RunEngine(providers: Harness.providers(model: model), configuration: Harness.configuration())
        let run = Task { await engine.run(plan: plan, inputs: [:], sinks: [sink]) }
        // Bounded wait (a bound, not a timing assertion): all three items reach the model.
        for _ in 0..<10_000 where model.startedCalls < 3 { try await Task.sleep(for: .milliseconds(1)) }
        try #require(model.startedCalls == 3)
        run.cancel()
        let outcome = await run.value
        #expect(outcome.status == .cancelled)
        #expect(outcome.exitCode == 130)
        #expect(model.cancelledCalls == 3, "every in-flight call saw the cancellation")
        let events = sink.events
        #expect(events.last?.type == .runCancelled)
        #expect(events.of(.stepFailed, step: "slow").count == 3)
        #expect(EventInvariants.violations(events) == [])
    }
}

/// Hangs on its first call until cancelled; answers "answered" after that.
private final class FirstCallHangsModel: ModelProvider {
    private let count = Mutex(0)

    var calls: Int { count.withLock { $0 } }

    func generate(_ request: ModelRequest, onDelta: @Sendable (String) async throws -> Void) async throws -> ModelResponse {
        let call = count.withLock { count in
            count += 1
            return count
        }
        if call == 1 { try await Task.sleep(for: .seconds(3600)) }
        return ModelResponse(text: "answered", usage: ModelUsage(provider: "x", model: request.model.name, inputTokens: 1, outputTokens: 1))
    }
}
