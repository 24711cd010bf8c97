import Foundation
import Testing

@Suite struct ValidateCommandTests {
    static let broken = "Tests/SluicePlanTests/Fixtures/broken"

    @Test func shippedPlansAreValid() async throws {
        let result = try await CLIProcess.run(["validate", "plans/news_report.json", "plans/extraction.json"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("plans/news_report.json: ok (news_report,"))
        #expect(result.stdout.contains("plans/extraction.json: ok (extraction,"))
    }

    @Test func planNamesAreLookedUpInThePlansFolder() async throws {
        let result = try await CLIProcess.run(["validate", "news_report"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("plans/news_report.json: ok"))
    }

    @Test func sluicePlansVariableNamesTheFolder() async throws {
        let result = try await CLIProcess.run(["validate", "fixture"], environment: ["SLUICE_PLANS": "Tests/SluicePlanTests/Fixtures/valid"])
        #expect(result.status == 0, "\(result.stderr)")
    }

    @Test func brokenPlanExitsTwoWithPositions() async throws {
        let result = try await CLIProcess.run(["validate", "\(Self.broken)/unknown_step_in_template.json"])
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("\(Self.broken)/unknown_step_in_template.json:18:"))
        #expect(result.stderr.contains("18:58: error: unknown step 'outlines' — did you mean 'outline'? (at /steps/1/template)"))
    }

    @Test func everyProblemIsReportedNotOnlyTheFirst() async throws {
        let result = try await CLIProcess.run([
            "validate", "plans/news_report.json", "\(Self.broken)/unknown_input.json", "\(Self.broken)/missing_comma.json",
        ])
        #expect(result.status == 2)
        #expect(result.stdout.contains("plans/news_report.json: ok"))
        #expect(result.stderr.contains("unknown_input.json:"))
        #expect(result.stderr.contains("missing_comma.json:"))
    }

    @Test func missingPlanIsABadInvocation() async throws {
        let result = try await CLIProcess.run(["validate", "no_such_plan"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("no plan 'no_such_plan'"))
    }

    @Test func noArgumentsIsAUsageErrorWithExitTwo() async throws {
        let result = try await CLIProcess.run(["validate"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("Missing expected argument '<plans> ...'"))
    }

    @Test func unknownOptionExitsTwo() async throws {
        let result = try await CLIProcess.run(["validate", "--frobnicate", "plans/news_report.json"])
        #expect(result.status == 2)
    }

    /// Text from the plan (keys, step ids, values) is printed with its control characters
    /// escaped: a plan cannot drive the terminal or forge a diagnostic line.
    @Test func controlCharactersInMessagesAreEscaped() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-escape-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let plan = folder.appendingPathComponent("hostile.json")
        try Data(
            #"""
            {"name": "hostile", "steps": [
              {"id": "a", "kind": "set", "value": "${steps[\"\u001b[2J\u2028x\"].output}",
               "x\nforged.json:1:1: error: forged\u0007\u009b": 1}
            ]}
            """#.utf8
        ).write(to: plan)
        let result = try await CLIProcess.run(["validate", plan.path])
        #expect(result.status == 2)
        let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == 3, "\(result.stderr)")
        #expect(!lines.contains { $0.hasPrefix("forged.json") })
        #expect(!result.stderr.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
        #expect(!result.stderr.unicodeScalars.contains { (0x7F...0x9F).contains($0.value) || $0 == "\u{2028}" })
        #expect(result.stderr.contains(#"error: unknown step '\u{1B}[2J\u{2028}x' (at /steps/0/value)"#))
        #expect(result.stderr.contains(#"unknown field 'x\nforged.json:1:1: error: forged\u{7}\u{9B}'"#))
    }

    /// Sizes that used to take quadratic time validate (each in well under a second in release;
    /// `make bench` prints the figures): a template with 20,000 tags, a template with 20,000 `${`
    /// in its text, and a chain of 2,000 steps each reading the one before.
    @Test func largePlansValidate() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-large-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let inputs = #""inputs": {"type": "object", "properties": {"x": {"type": "string"}}, "required": ["x"]}"#
        let tags = String(repeating: "{{inputs.x}}", count: 20_000)
        let dollars = "{{inputs.x}} " + String(repeating: "${inputs.x}", count: 20_000)
        let chain = (1..<2_000).map { #"{"id": "s\#($0)", "kind": "set", "value": "${steps.s\#($0 - 1).output}"}"# }
        let plans = [
            "tags": #"{"name": "tags", \#(inputs), "steps": [{"id": "t", "kind": "template", "template": "\#(tags)"}]}"#,
            "dollars": #"{"name": "dollars", \#(inputs), "steps": [{"id": "t", "kind": "template", "template": "\#(dollars)"}]}"#,
            "chain": #"{"name": "chain", \#(inputs), "steps": [{"id": "s0", "kind": "set", "value": "${inputs.x}"}, \#(chain.joined(separator: ", "))]}"#,
        ]
        for (name, text) in plans {
            try Data(text.utf8).write(to: folder.appendingPathComponent("\(name).json"))
        }
        let result = try await CLIProcess.run(["validate"] + ["tags", "dollars", "chain"].map { folder.appendingPathComponent("\($0).json").path })
        #expect(result.status == 0, "\(result.stderr.prefix(2_000))")
        #expect(result.stdout.contains("tags.json: ok (tags, 1 steps)"))
        #expect(result.stdout.contains("dollars.json: ok (dollars, 1 steps)"))
        #expect(result.stdout.contains("chain.json: ok (chain, 2000 steps)"))
    }
}
