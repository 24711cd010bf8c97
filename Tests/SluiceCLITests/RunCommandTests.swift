import Foundation
import SluiceFakeServices
import SluiceJSON
import Testing

@Suite struct RunCommandTests {
    static let runtimeFailure = "Tests/SluicePlanTests/Fixtures/valid/fails_at_runtime.json"

    static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("sluice-\(UUID().uuidString)-\(name)").path
    }

    /// The NDJSON events of a run's stdout.
    static func events(_ stdout: String) throws -> [JSONValue] {
        try stdout.split(separator: "\n").map { try JSONParser.parse(String($0)) }
    }

    @Test(arguments: ["news_report", "research_report", "industry_analysis", "auto"])
    func reportPlanCompletesOfflineWithOrderedEvents(plan: String) async throws {
        let result = try await CLIProcess.run(["run", plan, "--offline", "--events", "ndjson", "--input", "task=AI agents this week"])
        #expect(result.status == 0, "\(result.stderr)")
        let events = try Self.events(result.stdout)
        #expect(events.first?["type"] == "run.started")
        #expect(events.last?["type"] == "run.completed")
        let seqs = events.compactMap { $0["seq"]?.integerValue }
        #expect(seqs == Array(1...Int64(events.count)))
        #expect(events.contains { $0["type"] == "step.delta" })
        #expect(events.contains { $0["type"] == "gate.evaluated" } || plan == "auto")
        let report = events.last?["data"]?["result"]?["report_content"]?.stringValue ?? ""
        #expect(report.contains("simulated"))
    }

    @Test func extractionCompletesOfflineOnTheSampleDocument() async throws {
        let result = try await CLIProcess.run(["run", "extraction", "--offline", "--events", "ndjson", "--input", "document_path=samples/contract.md"])
        #expect(result.status == 0, "\(result.stderr)")
        let last = try Self.events(result.stdout).last
        #expect(last?["type"] == "run.completed")
        #expect(last?["data"]?["billing"] != nil)
    }

    @Test func prettyOutputWritesTheReportAsMarkdown() async throws {
        let output = Self.temporaryPath("report.md")
        defer { try? FileManager.default.removeItem(atPath: output) }
        let result = try await CLIProcess.run(["run", "news_report", "--offline", "--input", "task=AI agents", "--output", output])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("report: \(output)"))
        let report = try String(contentsOfFile: output, encoding: .utf8)
        #expect(report.hasPrefix("# "))
        #expect(report.contains("## Sources"))
    }

    @Test func jsonOutputWritesTheResult() async throws {
        let output = Self.temporaryPath("result.json")
        defer { try? FileManager.default.removeItem(atPath: output) }
        let result = try await CLIProcess.run(["run", "news_report", "--offline", "--events", "ndjson", "--input", "task=AI agents", "--output", output])
        #expect(result.status == 0, "\(result.stderr)")
        let value = try JSONParser.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: output))))
        #expect(value["status"] == "completed")
        #expect(value["metadata"]?["sections_count"] != nil)
    }

    @Test func inputsFileAndTypedInputsAreApplied() async throws {
        let inputs = Self.temporaryPath("inputs.json")
        defer { try? FileManager.default.removeItem(atPath: inputs) }
        try Data(#"{"task": "from the file", "days": 3}"#.utf8).write(to: URL(fileURLWithPath: inputs))
        let result = try await CLIProcess.run([
            "run", "news_report", "--offline", "--events", "ndjson", "--inputs", inputs, "--input", "max_iterations=1",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let started = try Self.events(result.stdout).first
        #expect(started?["data"]?["inputs"]?["task"] == "from the file")
        #expect(started?["data"]?["inputs"]?["days"] == 3)
        #expect(started?["data"]?["inputs"]?["max_iterations"] == 1)
        #expect(started?["data"]?["inputs"]?["quality_threshold"] == 7.0)
    }

    @Test func everyInputErrorIsNamedAndExitsTwo() async throws {
        let result = try await CLIProcess.run(["run", "news_report", "--offline", "--input", "days=soon", "--input", "colour=red"])
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("input 'days'"))
        #expect(result.stderr.contains("input 'colour'"))
        #expect(result.stderr.contains("input 'task'"))
    }

    @Test func aBrokenInputsFileExitsTwoWithItsPosition() async throws {
        let inputs = Self.temporaryPath("inputs.json")
        defer { try? FileManager.default.removeItem(atPath: inputs) }
        try Data("{\"task\": \"x\",\n}".utf8).write(to: URL(fileURLWithPath: inputs))
        let result = try await CLIProcess.run(["run", "news_report", "--offline", "--inputs", inputs])
        #expect(result.status == 2)
        #expect(result.stderr.contains("\(inputs):1:13: error: trailing comma not allowed"))
    }

    @Test func aFailedRunExitsOneAndKeepsWhatItHadDone() async throws {
        let output = Self.temporaryPath("partial.json")
        defer { try? FileManager.default.removeItem(atPath: output) }
        let result = try await CLIProcess.run(["run", Self.runtimeFailure, "--offline", "--events", "ndjson", "--output", output])
        #expect(result.status == 1)
        let last = try Self.events(result.stdout).last
        #expect(last?["type"] == "run.failed")
        #expect(last?["data"]?["billing"]?["billable"] == false)
        let partial = try JSONParser.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: output))))
        #expect(partial["status"] == "failed")
        #expect(partial["partial"]?["greeting"] == "kept after the failure")
        #expect(partial["error"]?.stringValue?.contains("division by zero") == true)
    }

    @Test func anInvalidPlanExitsTwo() async throws {
        let result = try await CLIProcess.run(["run", "Tests/SluicePlanTests/Fixtures/broken/unknown_input.json", "--offline"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("unknown input 'topic'"))
    }

    @Test func withoutProvidersItNamesTheVariableAndHowToRunOffline() async throws {
        // In an empty folder, so no .env of the developer's is read.
        let folder = URL(fileURLWithPath: Self.temporaryPath("empty"))
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let plan = CLIProcess.repository.appendingPathComponent("plans/news_report.json").path
        let result = try await CLIProcess.run(["run", plan, "--input", "task=x"], in: folder)
        #expect(result.status == 2)
        #expect(result.stderr.contains("OPENAI_API_KEY"))
        #expect(result.stderr.contains("--offline"))
    }

    @Test func anOnlineRunThroughLibcurlCompletesAgainstTheLoopbackServices() async throws {
        let services = try SimulatedServices()
        defer { services.stop() }
        let result = try await CLIProcess.run(
            ["run", "news_report", "--events", "ndjson", "--input", "task=AI agents this week", "--input", "max_iterations=1"],
            environment: services.environment
        )
        #expect(result.status == 0, "\(result.stderr)")
        let events = try Self.events(result.stdout)
        #expect(events.last?["type"] == "run.completed")
        #expect(events.contains { $0["type"] == "step.delta" })
        let usage = events.filter { $0["type"] == "model.usage" }
        #expect(!usage.isEmpty)
        #expect(usage.allSatisfy { $0["data"]?["provider"] != "simulated" })
        #expect(!services.search.requests.isEmpty)
        #expect(!result.stdout.contains("sk-fake"))
    }

    @Test func aDotEnvFileConfiguresProvidersAndTheEnvironmentWins() async throws {
        let folder = URL(fileURLWithPath: Self.temporaryPath("dotenv"))
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data("OPENAI_API_KEY=sk-from-dotenv\n".utf8).write(to: folder.appendingPathComponent(".env"))
        let plan = CLIProcess.repository.appendingPathComponent("plans/news_report.json").path
        // The model key comes from .env; the search provider is still missing, and says so.
        let result = try await CLIProcess.run(["run", plan, "--input", "task=x"], in: folder)
        #expect(result.status == 2)
        #expect(!result.stderr.contains("OPENAI_API_KEY"))
        #expect(result.stderr.contains("TAVILY_API_KEY"))
        #expect(!result.stderr.contains("sk-from-dotenv"))
    }

    @Test func aMalformedModelOverrideExitsTwo() async throws {
        let result = try await CLIProcess.run(["run", "news_report", "--offline", "--input", "task=x", "--model", "default"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("NAME=provider:model"))
    }

    @Test func ctrlCCancelsTheRunAndExits130() async throws {
        let run = try CLIProcess.start(["run", "news_report", "--offline", "--events", "ndjson", "--input", "task=AI agents"])
        // Interrupt once the run is streaming text, so a step is in flight.
        run.signal(SIGINT, onceOutputContains: "\"step.delta\"")
        let status = try await run.waitForExit(timeout: 60)
        #expect(status == 130)
        #expect(run.stdout.contains("\"step.delta\""), "interrupted before any text streamed")
        let lines = run.stdout.split(separator: "\n")
        let last = try lines.last.map { try JSONParser.parse(String($0)) }
        #expect(last?["type"] == "run.cancelled")
    }
}
