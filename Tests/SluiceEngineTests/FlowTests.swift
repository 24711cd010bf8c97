import Foundation
import SluiceEngine
import SluiceJSON
import SluicePlan
import SluiceProviders
import SluiceRunLog
import SluiceTesting
import Synchronization
import Testing

/// map and loop: order, concurrency, failure policy, rounds and the best attempt.
@Suite(.timeLimit(.minutes(2))) struct FlowTests {
    static let mapPlan = #"""
    {"name": "p", "models": {"default": "x:m"},
     "steps": [{"id": "each", "kind": "map", "over": "inputs.items", "as": "thing", "concurrency": 3,
                "tolerate_failures": TOLERATE,
                "steps": [{"id": "say", "kind": "llm", "prompt": "item {{thing}} at {{index}}"}],
                "result": {"i": "${index}", "text": "${steps.say.output}"}}]}
    """#

    @Test func mapKeepsInputOrderAndRespectsTheConcurrencyCap() async throws {
        let plan = try Harness.plan(Self.mapPlan.replacingOccurrences(of: "TOLERATE", with: "false"))
        // Later items answer sooner, so completion order is the reverse of input order.
        let model = ScriptedModel { request, _ in
            let n = Int(request.prompt.split(separator: " ")[1]) ?? 0
            try await Task.sleep(for: .milliseconds(5 * (10 - n)))
            return "done \(n)"
        }
        let items: JSONValue = .array((0..<10).map { .integer(Int64($0)) })
        let (outcome, events) = await Harness.run(plan, inputs: ["items": items], providers: Harness.providers(model: model))
        #expect(outcome.status == .completed)
        let texts = outcome.result?["each"]?.arrayValue?.compactMap { $0["text"]?.stringValue }
        #expect(texts == (0..<10).map { "done \($0)" })
        #expect(model.inFlight.peak <= 3)
        #expect(model.inFlight.peak >= 2)
        #expect(model.inFlight.total == 10)
        #expect(events.of(.stepStarted, step: "each").first?.data["items"] == 10)
        #expect(Set(events.of(.stepCompleted, step: "say").compactMap(\.item)) == Set(0..<10))
        #expect(events.of(.stepStarted, step: "say").allSatisfy { $0.data["parent"] == "each" })
        #expect(EventInvariants.violations(events) == [])
    }

    @Test func aFailedItemFailsTheMapAndCancelsTheOthers() async throws {
        let plan = try Harness.plan(Self.mapPlan.replacingOccurrences(of: "TOLERATE", with: "false"))
        let model = ScriptedModel { request, _ in
            if request.prompt.hasPrefix("item 1 ") { throw ProviderError(.invalidRequest, "bad item", provider: "x") }
            try await Task.sleep(for: .seconds(30))
            return "slow"
        }
        let (outcome, events) = await Harness.run(plan, inputs: ["items": [0, 1, 2, 3]], providers: Harness.providers(model: model))
        #expect(outcome.status == .failed)
        #expect(outcome.failure?.message.contains("bad item") == true)
        #expect(events.of(.stepFailed, step: "each").count == 1)
        #expect(EventInvariants.violations(events) == [])
    }

    @Test func toleratedFailuresLeaveNullAndAreListed() async throws {
        let plan = try Harness.plan(Self.mapPlan.replacingOccurrences(of: "TOLERATE", with: "true"))
        let model = ScriptedModel { request, _ in
            if request.prompt.hasPrefix("item 2 ") { throw ProviderError(.invalidRequest, "bad item", provider: "x") }
            return "ok"
        }
        let (outcome, events) = await Harness.run(plan, inputs: ["items": [0, 1, 2, 3]], providers: Harness.providers(model: model))
        #expect(outcome.status == .completed)
        #expect(outcome.result?["each"]?.arrayValue?.map(\.isNull) == [false, false, true, false])
        let completed = try #require(events.of(.stepCompleted, step: "each").first)
        #expect(completed.data["failed_items"]?[0]?["index"] == 2)
        #expect(completed.data["failed_items"]?[0]?["error"]?["message"]?.stringValue?.contains("bad item") == true)
        #expect(EventInvariants.violations(events) == [])
    }

    static let loopPlan = #"""
    {"name": "p", "models": {"default": "x:m", "judge": "x:judge"},
     "steps": [
       {"id": "research", "kind": "loop", "max_iterations": "${inputs.rounds}", "until": "steps.quality.output.passed",
        "steps": [
          {"id": "draft", "kind": "llm", "prompt": "Draft round {{loop.iteration}}.{{#loop.feedback}} Fix: {{feedback}}{{/loop.feedback}}{{#loop.best}} Best so far: {{score}}{{/loop.best}}"},
          {"id": "quality", "kind": "gate", "model": "judge", "prompt": "Judge {{steps.draft.output}}",
           "dimensions": [{"name": "depth", "weight": 2}, {"name": "accuracy"}], "threshold": "${inputs.threshold}"}
        ]},
       {"id": "final", "kind": "template", "template": "{{steps.draft.output}}"}
     ],
     "output": {"value": {"loop": "${steps.research.output}", "final": "${steps.final.output}"}}}
    """#

    @Test func aLoopEndsWhenTheGatePasses() async throws {
        let plan = try Harness.plan(Self.loopPlan)
        let (outcome, events) = await Harness.run(plan, inputs: ["rounds": 5, "threshold": 7.0])
        #expect(outcome.status == .completed, "\(outcome.failure?.description ?? "")")
        let gates = events.of(.gateEvaluated)
        #expect(gates.map(\.data["passed"]) == [false, true])
        #expect(gates.map(\.iteration) == [1, 2])
        #expect(gates.first?.data["threshold"] == 7.0)
        #expect(outcome.result?["loop"]?["iterations"] == 2)
        #expect(outcome.result?["loop"]?["iteration"] == 2)
        #expect(EventInvariants.violations(events) == [])
    }

    @Test func aLoopThatNeverPassesKeepsTheBestRound() async throws {
        let plan = try Harness.plan(Self.loopPlan)
        let scores = [8.0, 5.0, 6.0]
        let model = ScriptedModel { request, call in
            if request.metadata.purpose == .judge {
                let round = request.metadata.iteration ?? 1
                let s = scores[round - 1]
                return #"{"scores": {"depth": \#(s), "accuracy": \#(s)}, "feedback": "round \#(round) feedback"}"#
            }
            return "draft \(request.metadata.iteration ?? 0) [\(request.prompt)]"
        }
        let (outcome, events) = await Harness.run(plan, inputs: ["rounds": 3, "threshold": 9.0], providers: Harness.providers(model: model))
        #expect(outcome.status == .completed)
        #expect(events.of(.gateEvaluated).count == 3)
        #expect(outcome.result?["loop"]?["iterations"] == 3)
        #expect(outcome.result?["loop"]?["iteration"] == 1)
        #expect(outcome.result?["loop"]?["score"] == 8.0)
        #expect(outcome.result?["final"]?.stringValue?.hasPrefix("draft 1 ") == true, "after the loop, body outputs are the best round's")
        // Round 2 saw round 1's feedback and best score; round 3 saw round 2's feedback.
        let drafts = model.requests.filter { $0.metadata.purpose == .text }.map(\.prompt)
        #expect(drafts[0] == "Draft round 1.")
        #expect(drafts[1] == "Draft round 2. Fix: round 1 feedback Best so far: 8")
        #expect(drafts[2].contains("Fix: round 2 feedback"))
        #expect(model.requests.first { $0.metadata.purpose == .judge }?.model == ModelID(provider: "x", name: "judge"))
        #expect(EventInvariants.violations(events) == [])
    }

    @Test func gateScoresAreWeighted() async throws {
        let plan = try Harness.plan(Self.loopPlan)
        let model = ScriptedModel { request, _ in
            request.metadata.purpose == .judge ? #"{"scores": {"depth": 9, "accuracy": 6}, "feedback": "f"}"# : "d"
        }
        let (_, events) = await Harness.run(plan, inputs: ["rounds": 1, "threshold": 7.0], providers: Harness.providers(model: model))
        let gate = try #require(events.of(.gateEvaluated).first)
        #expect(gate.data["score"] == 8.0)
        #expect(gate.data["scores"] == ["depth": 9.0, "accuracy": 6.0])
        #expect(gate.data["passed"] == true)
    }
}
