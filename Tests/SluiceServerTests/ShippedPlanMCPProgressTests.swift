import Foundation
import SluiceEngine
import SluiceJSON
import SluicePlan
import SluiceProviders
import SluiceRunLog
import SluiceTesting
import Testing

@testable import SluiceServer

/// Seed 001's progress over MCP from a shipped plan: each section written is a
/// `notifications/message` with `status: generating_sections` and `details: {id, name, content}`.
@Suite struct ShippedPlanMCPProgressTests {
    /// An offline run of the shipped news_report with `inputs`, and its events.
    static func newsReport(_ inputs: JSONValue) async throws -> (RunOutcome, RecordingEventSink) {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let catalog = PlanCatalog(directories: [root + "/plans"])
        let plan = try PlanLoader(catalog: catalog).load(path: root + "/plans/news_report.json")
        let providers = try RunEngine.Providers.offline(corpusFolder: root + "/corpus", documentsRoot: root, model: .init(chunkDelay: .zero))
        let sink = RecordingEventSink()
        let outcome = await RunEngine(providers: providers, configuration: RunEngine.Configuration(catalog: catalog)).run(plan: plan, inputs: inputs, sinks: [sink])
        return (outcome, sink)
    }

    @Test func sectionsAreAnnouncedWithTheirDetails() async throws {
        let (outcome, sink) = try await Self.newsReport(["task": "生成AI Agent领域最近一周的行业重大事件报告", "max_iterations": 1])
        try #require(outcome.status == .completed, "\(outcome.failure?.description ?? "")")
        let messages = sink.events.compactMap { MCPEventRenderer.logMessage(for: $0)?.1["msg"] }
        let sections = messages.filter { $0["status"] == "generating_sections" }
        let titles = outcome.result?["report_content"]?.stringValue ?? ""
        #expect(sections.count == outcome.result?["metadata"]?["sections_count"]?.integerValue.map(Int.init))
        for msg in sections {
            let details = try #require(msg["details"])
            #expect(details["id"]?.integerValue != nil)
            let name = try #require(details["name"]?.stringValue)
            #expect(titles.contains("## \(name)"))
            #expect(details["content"]?.stringValue?.isEmpty == false)
            #expect(msg["message"]?.stringValue == "完成\(name)的生成任务")
        }
    }

    /// At `info` a person follows the report (stages, gate results, sections, usage, the end),
    /// on the order of seed 001's ~50 messages; outputs and unannounced steps only at `debug`.
    @Test func infoCarriesWhatAPersonFollowsAndDebugTheRest() async throws {
        let (outcome, sink) = try await Self.newsReport(["task": "AI agents this week", "auto_confirm": true])
        try #require(outcome.status == .completed)
        func render(_ level: MCPLogLevel) -> [JSONValue] {
            var renderer = MCPEventRenderer(progressToken: "t")
            return sink.events.flatMap { renderer.notifications(for: $0, minimumLevel: level) }.map(\.jsonValue)
        }
        let info = render(.info)
        let debug = render(.debug)
        let statuses = info.compactMap { $0["params"]?["data"]?["msg"]?["status"]?.stringValue }
        #expect(!statuses.contains("step_completed"))
        #expect(!statuses.contains("streaming"))
        #expect(statuses.contains("quality_evaluated") && statuses.contains("generating_sections") && statuses.contains("completed"))
        #expect(info.filter { $0["params"]?["data"]?["msg"]?["type"] == "model_usage" }.count == sink.events.filter { $0.type == .modelUsage }.count)
        // A set step the plan does not announce (`language`) is not an info message.
        #expect(!info.contains { $0["params"]?["data"]?["msg"]?["details"]?["step"] == "language" })
        #expect(info.count <= 80, "\(info.count) notifications at info")
        let progress = info.compactMap { $0["params"]?["progress"]?.integerValue }
        #expect(progress == Array(1...Int64(progress.count)))
        #expect(debug.contains { $0["params"]?["data"]?["msg"]?["status"] == "step_completed" })
        #expect(debug.count > info.count)
    }
}
