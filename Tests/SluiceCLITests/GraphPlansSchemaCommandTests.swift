import Foundation
import Testing

@Suite struct GraphPlansSchemaCommandTests {
    @Test func graphPrintsAMermaidFlowchartWithLoopsAndMaps() async throws {
        let result = try await CLIProcess.run(["graph", "plans/news_report.json"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("flowchart TD\n"))
        #expect(result.stdout.contains("subgraph"))
        #expect(result.stdout.contains("-.->|\"until "))
        #expect(result.stdout.contains("map over steps.outline.output.sections"))
    }

    @Test func graphOfABrokenPlanExitsTwo() async throws {
        let result = try await CLIProcess.run(["graph", "Tests/SluicePlanTests/Fixtures/broken/missing_comma.json"])
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
    }

    @Test func plansListsEveryShippedPlan() async throws {
        let result = try await CLIProcess.run(["plans"])
        #expect(result.status == 0, "\(result.stderr)")
        for name in ["news_report", "research_report", "industry_analysis", "extraction", "auto"] {
            #expect(result.stdout.contains("\(name) "), "\(name) missing from:\n\(result.stdout)")
        }
    }

    @Test func plansOfAnEmptyFolderSaysSo() async throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        let result = try await CLIProcess.run(["plans", "--plans", empty.path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("no plans in"))
    }

    @Test func schemaPrintsThePlanSchema() async throws {
        let result = try await CLIProcess.run(["schema"])
        #expect(result.status == 0)
        let file = try String(contentsOf: CLIProcess.repository.appendingPathComponent("schemas/plan.schema.json"), encoding: .utf8)
        #expect(result.stdout == file)
    }

    @Test func schemaOfAPlanPrintsItsInputsAndOutput() async throws {
        let result = try await CLIProcess.run(["schema", "news_report"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("\"inputs\": {"))
        #expect(result.stdout.contains("\"task\""))
        #expect(result.stdout.contains("\"output\": {"))
    }
}
