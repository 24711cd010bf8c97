import Foundation
import SluiceJSON
import Testing

/// `sluice run --output` never claims a file it did not write, and `--offline` runs from any folder.
@Suite struct RunOutputAndCorpusTests {
    @Test func aMarkdownOutputForAPlanWithoutAReportIsRefusedBeforeRunning() async throws {
        let plan = try ScratchPlan(ScratchPlan.dueDiligence, name: "due_diligence")
        defer { plan.remove() }
        let output = plan.file("report.md")
        let result = try await CLIProcess.run(["run", plan.path, "--offline", "--input", "company=Acme", "--output", output])
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty, "nothing ran")
        #expect(result.stderr.contains("has no report_content (its fields: company, depth)"), "\(result.stderr)")
        #expect(result.stderr.contains("--output \(plan.file("report.json"))"))
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    @Test(arguments: [
        (#"{"value": "${steps.facts.output}", "schema": {"type": "object", "properties": {"summary": {"type": "string"}}}}"#,
         "has no report_content (its fields: summary)"),
        (#"{"value": [1, 2]}"#, "is neither text nor an object with report_content"),
        (#"{"value": "${steps.facts.output}", "schema": {"type": "array"}}"#, "is neither text nor an object with report_content"),
    ])
    func whatTheOutputDeclaresDecidesBeforeRunning(output: String, message: String) async throws {
        let text = #"{"name": "declared", "steps": [{"id": "facts", "kind": "set", "value": {"summary": "s"}}], "output": "#
        let plan = try ScratchPlan(text + output + "}", name: "declared")
        defer { plan.remove() }
        let result = try await CLIProcess.run(["run", plan.path, "--offline", "--output", plan.file("out.md")])
        #expect(result.status == 2)
        #expect(result.stderr.contains("the result of plan 'declared' \(message)"), "\(result.stderr)")
    }

    @Test func theResultAsJSONIsWrittenAndSaidOnceItIs() async throws {
        let plan = try ScratchPlan(ScratchPlan.dueDiligence, name: "due_diligence")
        defer { plan.remove() }
        let output = plan.file("result.json")
        let result = try await CLIProcess.run(["run", plan.path, "--offline", "--input", "company=Acme", "--output", output])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasSuffix("  result: \(output)\n"))
        let written = try JSONParser.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: output))))
        #expect(written["company"] == "Acme")
    }

    @Test func aResultThatTurnsOutNotToBeAReportWritesNothingAndFails() async throws {
        let plan = try ScratchPlan(ScratchPlan.opaqueResult, name: "opaque_result")
        defer { plan.remove() }
        let output = plan.file("report.md")
        let result = try await CLIProcess.run(["run", plan.path, "--offline", "--output", output])
        #expect(result.status == 1)
        #expect(!result.stdout.contains("report:"))
        #expect(result.stderr.contains("error: nothing was written to \(output): the result has no report_content (its fields: summary)"))
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    @Test func anOfflineRunWorksFromAFolderWithoutACorpusAndSaysSo() async throws {
        let plan = try ScratchPlan(ScratchPlan.dueDiligence, name: "due_diligence")
        defer { plan.remove() }
        let news = CLIProcess.repository.appendingPathComponent("plans/news_report.json").path
        let result = try await CLIProcess.run(["run", news, "--offline", "--events", "ndjson", "--input", "task=AI agents"], in: plan.folder)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("note: offline searches find nothing: there is no ./corpus folder here"))
        #expect(result.stderr.contains("--corpus DIR or SLUICE_CORPUS"))
        let last = try result.stdout.split(separator: "\n").last.map { try JSONParser.parse(String($0)) }
        #expect(last?["type"] == "run.completed")
    }

    @Test func theCorpusComesFromTheOptionOrTheEnvironment() async throws {
        let plan = try ScratchPlan(ScratchPlan.dueDiligence, name: "due_diligence")
        defer { plan.remove() }
        let corpus = CLIProcess.repository.appendingPathComponent("corpus").path
        let arguments = ["run", "news_report", "--plans", CLIProcess.repository.appendingPathComponent("plans").path,
                         "--offline", "--events", "ndjson", "--input", "task=AI agents"]
        let byOption = try await CLIProcess.run(arguments + ["--corpus", corpus], in: plan.folder)
        #expect(byOption.status == 0, "\(byOption.stderr)")
        #expect(byOption.stderr.contains("offline: searching 10 local documents in '\(corpus)' (--corpus)"))
        let byVariable = try await CLIProcess.run(arguments, in: plan.folder, environment: ["SLUICE_CORPUS": corpus])
        #expect(byVariable.status == 0, "\(byVariable.stderr)")
        #expect(byVariable.stderr.contains("(SLUICE_CORPUS)"))
        let missing = try await CLIProcess.run(arguments + ["--corpus", plan.file("no_such_folder")], in: plan.folder)
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("error: --corpus '\(plan.file("no_such_folder"))': cannot read the corpus folder"))
    }
}
