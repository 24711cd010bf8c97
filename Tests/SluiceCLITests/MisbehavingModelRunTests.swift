import Foundation
import SluiceFakeServices
import SluiceJSON
import Testing

/// `sluice run` against model services that misbehave: the run recovers where the policy says
/// and fails cleanly where it does not, and the usage it reports — events, the end event and
/// `sluice runs show` — is what the fakes served, call for call and token for token.
@Suite struct MisbehavingModelRunTests {
    static func plan(model: String) -> String {
        """
        {"name": "misbehaving", "models": {"default": "\(model)"},
         "steps": [
          {"id": "classify", "kind": "llm", "prompt": "CLASSIFY the task: AI agents this week",
           "schema": {"type": "object", "properties": {"title": {"type": "string"}, "score": {"type": "integer"}}, "required": ["title", "score"]}},
          {"id": "write", "kind": "llm", "prompt": "WRITE a section about AI agents this week"}
         ],
         "output": {"value": {"classified": "${steps.classify.output}", "text": "${steps.write.output}"}}}
        """
    }

    static let models = ["openai:gpt-4o-mini", "anthropic:claude-sonnet-4-5"]

    struct Run {
        var status: Int32
        var events: [JSONValue]
        var shown: String
        var served: ModelBehaviour.Served
    }

    /// Runs the CLI; `CLIProcess.run` waits off the cooperative pool, so the fake model
    /// services, which compute their answers on that pool, are not starved meanwhile.
    static func cli(_ arguments: [String], environment: [String: String]) async throws -> CLIProcess.Result {
        try await CLIProcess.run(arguments, environment: environment)
    }

    static func run(model: String, _ setUp: (ModelBehaviour) -> Void) async throws -> Run {
        let services = try SimulatedServices()
        defer { services.stop() }
        setUp(services.modelBehaviour)
        let home = DurableHome()
        defer { home.remove() }
        let path = RunCommandTests.temporaryPath("misbehaving.json")
        try Data(plan(model: model).utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let environment = services.environment.merging(home.environment) { $1 }
        let result = try await cli(["run", path, "--events", "ndjson"], environment: environment)
        let events = try RunCommandTests.events(result.stdout)
        let runID = try #require(events.first?["run_id"]?.stringValue, "\(result.stderr)")
        let shown = try await cli(["runs", "show", runID], environment: environment)
        return Run(status: result.status, events: events, shown: shown.stdout, served: services.modelBehaviour.served)
    }

    /// The reported usage equals what the fakes served, in the events and the end event.
    static func expectUsageMatches(_ run: Run) throws {
        let usage = run.events.filter { $0["type"] == "model.usage" }.map { $0["data"] ?? .null }
        #expect(usage.count == run.served.calls)
        #expect(usage.compactMap { $0["input_tokens"]?.integerValue }.reduce(0, +) == Int64(run.served.inputTokens))
        #expect(usage.compactMap { $0["output_tokens"]?.integerValue }.reduce(0, +) == Int64(run.served.outputTokens))
        let totals = try #require(run.events.last?["data"]?["usage"])
        #expect(totals["model_calls"]?.integerValue == Int64(run.served.calls))
        #expect(totals["input_tokens"]?.integerValue == Int64(run.served.inputTokens))
        #expect(totals["output_tokens"]?.integerValue == Int64(run.served.outputTokens))
        #expect(run.shown.contains(#""model_calls": \#(run.served.calls)"#), "\(run.shown)")
    }

    static func outcomes(_ run: Run, step: String) -> [String] {
        run.events.filter { $0["type"] == "model.usage" && $0["step"]?.stringValue == step }.compactMap { $0["data"]?["outcome"]?.stringValue }
    }

    @Test(arguments: models)
    func aRunRecoversFromTruncationAndABadAnswerAndCountsEveryCall(model: String) async throws {
        let run = try await Self.run(model: model) { behaviour in
            behaviour.misbehave([.truncated, .missingField], whenPromptContains: "CLASSIFY")
            behaviour.misbehave([.truncated], whenPromptContains: "WRITE")
        }
        #expect(run.status == 0)
        #expect(run.events.last?["type"] == "run.completed")
        #expect(Self.outcomes(run, step: "classify") == ["truncated", "invalid", "repaired"])
        #expect(Self.outcomes(run, step: "write") == ["truncated", "accepted"])
        let written = run.events.first { $0["type"] == "step.completed" && $0["step"] == "write" }
        #expect(written?["data"]?["truncated"] == nil, "continued to the end")
        try Self.expectUsageMatches(run)
    }

    @Test(arguments: models)
    func aRunWhoseAnswersNeverFitFailsAndReportsWhatItSpent(model: String) async throws {
        let run = try await Self.run(model: model) { behaviour in
            behaviour.misbehave([.truncated, .truncated, .truncated], whenPromptContains: "CLASSIFY")
        }
        #expect(run.status != 0)
        #expect(run.events.last?["type"] == "run.failed")
        #expect(Self.outcomes(run, step: "classify") == ["truncated", "truncated", "truncated"])
        #expect(run.served.calls == 3)
        try Self.expectUsageMatches(run)
    }
}
