import Foundation
import Testing

/// What the CLI says when something is wrong: what was expected, what might have been meant,
/// a next command that works, once, with the documented exit code.
@Suite struct CLIMessageTests {
    @Test func inputErrorsNameASchemaCommandThatWorksForAPlanGivenByPath() async throws {
        let plan = try ScratchPlan(ScratchPlan.dueDiligence, name: "due_diligence")
        defer { plan.remove() }
        let result = try await CLIProcess.run(["run", plan.path, "--offline", "--input", "depth=9"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("input 'company': is required"))
        let hint = "see the plan's inputs with: "
        let command = try #require(result.stderr.split(separator: "\n").last { $0.hasPrefix(hint) }).dropFirst(hint.count)
        #expect(command == "sluice schema \(plan.path)")
        let schema = try await CLIProcess.run(command.split(separator: " ").dropFirst().map(String.init))
        #expect(schema.status == 0, "\(schema.stderr)")
        #expect(schema.stdout.contains("\"depth\""))
    }

    @Test func aPlanNamedInAPlansFolderKeepsTheFolderInTheHint() async throws {
        let plan = try ScratchPlan(ScratchPlan.dueDiligence, name: "due_diligence")
        defer { plan.remove() }
        let result = try await CLIProcess.run(["run", "due_diligence", "--plans", plan.folder.path, "--offline"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("see the plan's inputs with: sluice schema due_diligence --plans \(plan.folder.path)"))
    }

    @Test func malformedAndMisspelledInputsSayWhatWasMeant() async throws {
        let plan = try ScratchPlan(ScratchPlan.dueDiligence, name: "due_diligence")
        defer { plan.remove() }
        let result = try await CLIProcess.run([
            "run", plan.path, "--offline", "--input", "company=Acme", "--input", "focus=finances", "--input", "dept=2",
        ])
        #expect(result.status == 2)
        #expect(result.stderr.contains(#"error: input 'focus': expects a JSON array such as ["a", "b"]; got finances"#), "\(result.stderr)")
        #expect(result.stderr.contains("error: input 'dept': is not an input of this plan — did you mean 'depth'?"))
        #expect(!result.stderr.contains("invalid literal"))
    }

    @Test func anErrorIsPrintedOnceWithItsExitCode() async throws {
        let unknownRun = try await CLIProcess.run(["runs", "show", "run_nope"])
        #expect(unknownRun.status == 2)
        #expect(unknownRun.stderr.components(separatedBy: "error:").count == 2, "\(unknownRun.stderr)")
        let serve = try await CLIProcess.run(["serve", "--cache-ttl", "1h"])
        #expect(serve.status == 2)
        #expect(serve.stderr == "error: --cache-ttl needs --cache\n")
        let duration = try await CLIProcess.run(["runs", "prune", "--older-than", "soon"])
        #expect(duration.status == 2)
        #expect(duration.stderr == "error: --older-than 'soon': expected a number and a unit s, m, h or d (e.g. 30d)\n")
    }
}
