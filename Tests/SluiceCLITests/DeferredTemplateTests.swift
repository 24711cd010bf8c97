import Foundation
import SluiceFakeServices
import SluiceJSON
import Testing

/// A plan this binary already validated has its templates compiled when first rendered, not
/// before the first event; a template that does not compile is still reported at load, with
/// file, line and pointer, before any model call.
@Suite struct DeferredTemplateTests {
    static let plan = """
        {"name": "deferred_templates", "models": {"default": "openai:gpt-4o-mini"},
         "inputs": {"type": "object", "properties": {"topic": {"type": "string", "default": "agents"}}},
         "steps": [
          {"id": "ask", "kind": "llm", "message": "Asking about {{inputs.topic}}",
           "system": "You write about {{inputs.topic}}.",
           "prompt": "Write about {{#inputs.topic}}the {{.}} industry{{/inputs.topic}} this week"},
          {"id": "report", "kind": "template", "template": "# {{inputs.topic}}\\n\\n{{steps.ask.output}}"}
         ],
         "output": {"value": "${steps.report.output}"}}
        """

    /// The plan with its prompt's section left open (line 6 of the plan's text).
    static let broken = plan.replacingOccurrences(of: "industry{{/inputs.topic}}", with: "industry")

    struct Setup {
        let home = DurableHome()
        let plan: ScratchPlan
        let services: SimulatedServices

        init(_ text: String) throws {
            plan = try ScratchPlan(text, name: "deferred_templates")
            services = try SimulatedServices()
        }

        func run() async throws -> CLIProcess.Result {
            try await CLIProcess.run(
                ["run", plan.path, "--events", "ndjson"], environment: services.environment.merging(home.environment) { $1 })
        }

        /// The messages of every model request so far.
        var prompts: [JSONValue] { services.models.requests.map { $0.json?["messages"] ?? .null } }

        func remove() {
            services.stop()
            home.remove()
            plan.remove()
        }
    }

    static func expectReported(_ run: CLIProcess.Result, plan: ScratchPlan) {
        #expect(run.status == 2)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.contains("\(plan.path):6:"), "\(run.stderr)")
        #expect(run.stderr.contains("invalid template: section 'inputs.topic' is never closed (at /steps/0/prompt)"), "\(run.stderr)")
    }

    /// A second start of the same plan (a validation cache hit) renders every template — the
    /// progress message, system, prompt and template step — exactly as the first did.
    @Test func aValidatedPlanRendersItsTemplatesAsItsFirstRunDid() async throws {
        let setup = try Setup(Self.plan)
        defer { setup.remove() }
        let first = try await setup.run()
        #expect(first.status == 0, "\(first.stderr)")
        let firstPrompts = setup.prompts
        try #require(firstPrompts.count == 1)
        let second = try await setup.run()
        #expect(second.status == 0, "\(second.stderr)")
        #expect(setup.prompts.count == 2)
        #expect(setup.prompts.last == firstPrompts[0])
        #expect(firstPrompts[0].serialized().contains("Write about the agents industry this week"))
        #expect(firstPrompts[0].serialized().contains("You write about agents."))
        let events = [first, second].map { Events(ndjson: $0.stdout) }
        #expect(events[0].types == events[1].types)
        for run in events {
            let started = run.all.first { $0["type"] as? String == "step.started" && $0["step"] as? String == "ask" }
            #expect((started?["data"] as? [String: Any])?["message"] as? String == "Asking about agents")
            let result = run.all.last?["data"] as? [String: Any]
            #expect((result?["result"] as? String)?.hasPrefix("# agents\n\n") == true, "\(String(describing: result))")
        }
    }

    /// A broken template is reported at load with its place, and no model is called: in a plan
    /// never run, and in one edited after its valid bytes were remembered.
    @Test(arguments: [false, true]) func aTemplateErrorIsReportedWithItsPlaceBeforeAnyModelCall(rememberedFirst: Bool) async throws {
        let setup = try Setup(Self.plan)
        defer { setup.remove() }
        if rememberedFirst {
            #expect(try await setup.run().status == 0)
        }
        let calls = setup.services.models.requests.count
        try Data(Self.broken.utf8).write(to: URL(fileURLWithPath: setup.plan.path))
        for _ in 0..<2 {
            Self.expectReported(try await setup.run(), plan: setup.plan)
        }
        #expect(setup.services.models.requests.count == calls)
    }

    /// A cache entry forged for a plan whose template does not compile (the folder is trusted,
    /// as the store beside it is): the run fails cleanly at that step, naming the template's
    /// place, before its model call — never a trap.
    @Test func aForgedEntryForABrokenTemplateFailsTheRunCleanly() async throws {
        let setup = try Setup(Self.plan)
        defer { setup.remove() }
        #expect(try await setup.run().status == 0)
        let folder = setup.home.path + "/plan-cache"
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { !$0.hasPrefix(".") }
        let entry = folder + "/" + (try #require(names.first))
        let header = try Data(contentsOf: URL(fileURLWithPath: entry)).dropLast(Self.plan.utf8.count)
        try (header + Data(Self.broken.utf8)).write(to: URL(fileURLWithPath: entry))
        try Data(Self.broken.utf8).write(to: URL(fileURLWithPath: setup.plan.path))

        let run = try await setup.run()
        #expect(run.status == 1, "\(run.stderr)")
        let failed = try #require(Events(ndjson: run.stdout).all.last)
        #expect(failed["type"] as? String == "run.failed")
        let error = (failed["data"] as? [String: Any])?["error"] as? [String: Any]
        #expect(error?["step"] as? String == "ask")
        #expect((error?["message"] as? String)?.contains("template at /steps/0/prompt does not compile") == true, "\(run.stdout)")
        #expect(setup.services.models.requests.count == 1)
    }
}
