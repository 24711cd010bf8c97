import Foundation
import Testing

@Suite struct ValidateCommandTests {
    static let broken = "Tests/SluicePlanTests/Fixtures/broken"

    @Test func shippedPlansAreValid() throws {
        let result = try CLIProcess.run(["validate", "plans/news_report.json", "plans/extraction.json"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("plans/news_report.json: ok (news_report,"))
        #expect(result.stdout.contains("plans/extraction.json: ok (extraction,"))
    }

    @Test func planNamesAreLookedUpInThePlansFolder() throws {
        let result = try CLIProcess.run(["validate", "news_report"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("plans/news_report.json: ok"))
    }

    @Test func sluicePlansVariableNamesTheFolder() throws {
        let result = try CLIProcess.run(["validate", "fixture"], environment: ["SLUICE_PLANS": "Tests/SluicePlanTests/Fixtures/valid"])
        #expect(result.status == 0, "\(result.stderr)")
    }

    @Test func brokenPlanExitsTwoWithPositions() throws {
        let result = try CLIProcess.run(["validate", "\(Self.broken)/unknown_step_in_template.json"])
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("\(Self.broken)/unknown_step_in_template.json:18:"))
        #expect(result.stderr.contains("18:58: error: unknown step 'outlines' (at /steps/1/template)"))
    }

    @Test func everyProblemIsReportedNotOnlyTheFirst() throws {
        let result = try CLIProcess.run([
            "validate", "plans/news_report.json", "\(Self.broken)/unknown_input.json", "\(Self.broken)/missing_comma.json",
        ])
        #expect(result.status == 2)
        #expect(result.stdout.contains("plans/news_report.json: ok"))
        #expect(result.stderr.contains("unknown_input.json:"))
        #expect(result.stderr.contains("missing_comma.json:"))
    }

    @Test func missingPlanIsABadInvocation() throws {
        let result = try CLIProcess.run(["validate", "no_such_plan"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("no plan 'no_such_plan'"))
    }

    @Test func noArgumentsIsAUsageErrorWithExitTwo() throws {
        let result = try CLIProcess.run(["validate"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("Missing expected argument '<plans> ...'"))
    }

    @Test func unknownOptionExitsTwo() throws {
        let result = try CLIProcess.run(["validate", "--frobnicate", "plans/news_report.json"])
        #expect(result.status == 2)
    }
}
