import Foundation
import SluiceEngine
import SluiceJSON
import SluicePlan
import SluiceProviders
import SluiceRunLog
import SluiceTesting
import Testing

/// The report plans' promises, checked end to end against in-process fakes: citations resolve
/// to sources a search returned, sections follow the outline and are announced with their
/// details, the research loop stays within its limit and keeps the best score, gap analysis
/// drives the supplementary searches, and the language follows the task.
@Suite struct ShippedPlanReportTests {
    static let reportPlans = ["news_report", "research_report", "industry_analysis", "examples/competitor_analysis"]

    @Test(arguments: reportPlans)
    func citationsResolveToListedSourcesThatSearchReturned(plan name: String) async throws {
        let search = ShippedPlanFakes.Search()
        let (outcome, events) = await ShippedPlanFakes.run(
            try ShippedPlanFakes.load(name), inputs: ["task": "AI agents this week", "max_iterations": 2],
            model: ShippedPlanFakes.model(judgeScores: [6, 8]), search: search
        )
        try #require(outcome.status == .completed, "\(outcome.failure?.description ?? "")")
        #expect(EventInvariants.violations(events) == [])
        let result = try #require(outcome.result)
        let sources = try #require(result["sources"]?.arrayValue)
        #expect(!sources.isEmpty)
        let numbers = sources.compactMap { $0["n"]?.integerValue.map(Int.init) }
        #expect(numbers.count == sources.count && numbers == numbers.sorted() && Set(numbers).count == numbers.count, "sources keep their numbers, in order")
        for source in sources {
            #expect(search.urls.contains(source["url"]?.stringValue ?? ""), "\(source) was not returned by a search")
            #expect(source["title"]?.stringValue?.isEmpty == false)
        }
        let report = try #require(result["report_content"]?.stringValue)
        let cited = ShippedPlanFakes.citations(in: report)
        #expect(!cited.isEmpty, "the report cites its sources")
        #expect(cited.allSatisfy { numbers.contains($0) }, "citations \(Set(cited).sorted()) for sources \(numbers)")
        #expect(Set(numbers).isSubset(of: Set(cited)), "the sources list holds only what the report cites: \(numbers) against \(Set(cited).sorted())")
        #expect(!report.contains("[42]") && !report.contains("[0]"), "citations of no source are removed")
        #expect(report.contains("[table](https://example.com/x)"), "links are not citations")
        for source in sources {
            #expect(report.contains(source["url"]?.stringValue ?? "-"), "the sources list has every source")
        }
    }

    @Test(arguments: reportPlans)
    func sectionsFollowTheOutlineAndAreAnnouncedWithDetails(plan name: String) async throws {
        let (outcome, events) = await ShippedPlanFakes.run(
            try ShippedPlanFakes.load(name), inputs: ["task": "AI agents this week", "max_iterations": 1],
            model: ShippedPlanFakes.model(judgeScores: [9])
        )
        try #require(outcome.status == .completed, "\(outcome.failure?.description ?? "")")
        let outline = try #require(ShippedPlanFakes.outputs(events, of: "outline").last?.output)
        let titles = try #require(outline["sections"]?.arrayValue).compactMap { $0["title"]?.stringValue }
        let result = try #require(outcome.result)
        #expect(result["metadata"]?["sections_count"]?.integerValue == Int64(titles.count))
        let report = try #require(result["report_content"]?.stringValue)
        for title in titles { #expect(report.contains("## \(title)\n"), "section \(title)") }
        // Seed 001: one generating_sections message per section written, with {id, name, content}.
        let announced = events.of(.stepStarted).filter { $0.data["status"]?.stringValue == "generating_sections" }
        #expect(announced.count == titles.count)
        for event in announced {
            let details = try #require(event.data["details"])
            let id = try #require(details["id"]?.integerValue)
            #expect(details["name"]?.stringValue == titles[Int(id)])
            let content = try #require(details["content"]?.stringValue)
            #expect(!content.isEmpty && report.contains(content), "the announced content is the section in the report")
            #expect(event.data["message"]?.stringValue?.contains(titles[Int(id)]) == true)
        }
    }

    @Test(arguments: reportPlans)
    func theLoopStopsAtItsLimitAndKeepsTheBestScore(plan name: String) async throws {
        // The threshold is never met: three rounds, and the best (the second) is kept.
        let search = ShippedPlanFakes.Search()
        let (outcome, events) = await ShippedPlanFakes.run(
            try ShippedPlanFakes.load(name), inputs: ["task": "AI agents this week", "max_iterations": 3, "quality_threshold": 9.5],
            model: ShippedPlanFakes.model(
                judgeScores: [5, 8, 6],
                overrides: ["gap_analysis": { _ in ["gaps": [["section": "Second", "missing": "funding news"]], "queries": ["gap query funding"]] }]
            ),
            search: search
        )
        try #require(outcome.status == .completed, "\(outcome.failure?.description ?? "")")
        let metadata = try #require(outcome.result?["metadata"])
        #expect(metadata["iterations"]?.integerValue == 3)
        #expect(metadata["final_quality_score"]?.doubleValue == 8)
        let gates = events.of(.gateEvaluated)
        #expect(gates.count == 3 && gates.allSatisfy { ($0.iteration ?? 0) <= 3 })
        // Rounds 2 and 3 search for what the gap analysis named, from the last gate's feedback.
        let gapRounds = events.of(.stepStarted, step: "gap_analysis").compactMap(\.iteration)
        #expect(gapRounds == [2, 3])
        #expect(search.texts.filter { $0 == "gap query funding" }.count == 2)
        #expect(events.of(.stepSkipped, step: "queries").compactMap(\.iteration) == [2, 3])
    }

    @Test func theLoopStopsAsSoonAsTheGatePasses() async throws {
        let (outcome, events) = await ShippedPlanFakes.run(
            try ShippedPlanFakes.load("news_report"), inputs: ["task": "AI agents this week", "max_iterations": 3],
            model: ShippedPlanFakes.model(judgeScores: [6.5, 7.5, 9])
        )
        try #require(outcome.status == .completed)
        #expect(outcome.result?["metadata"]?["iterations"]?.integerValue == 2)
        #expect(outcome.result?["metadata"]?["final_quality_score"]?.doubleValue == 7.5)
        #expect(events.of(.gateEvaluated).last?.data["passed"] == true)
        #expect(outcome.billing["billable"] == true, "a completed report is billed per run")
    }

    @Test(arguments: [
        ("生成AI Agent领域最近一周的行业重大事件报告", nil, "zh"),
        ("Major events in the AI agent industry this week", nil, "en"),
        ("生成AI Agent领域最近一周的行业重大事件报告", "en", "en"),
        ("Major events in the AI agent industry this week", "zh", "zh"),
    ] as [(String, String?, String)])
    func progressMessagesFollowTheTasksLanguageOrTheLocale(task: String, locale: String?, expected: String) async throws {
        var inputs: JSONObject = ["task": .string(task), "max_iterations": 1]
        if let locale { inputs["locale"] = .string(locale) }
        let model = ShippedPlanFakes.model(judgeScores: [9])
        let (outcome, events) = await ShippedPlanFakes.run(try ShippedPlanFakes.load("news_report"), inputs: .object(inputs), model: model)
        try #require(outcome.status == .completed)
        let intent = events.of(.stepStarted, step: "intent").first?.data["message"]?.stringValue
        #expect(intent == (expected == "zh" ? "正在分析任务意图" : "Analysing the request"))
        #expect(outcome.result?["metadata"]?["language"]?.stringValue == expected)
        #expect(outcome.report?.contains(expected == "zh" ? "## 执行摘要" : "## Executive summary") == true)
        // The writers are told the language: Chinese when it is Chinese, the request's otherwise.
        let system = model.requests.first { $0.metadata.stepID == "section_text" }?.system ?? ""
        if expected == "zh" {
            #expect(system.contains("Simplified Chinese"))
        } else {
            #expect(system.contains(locale == "en" ? "Write in English." : "Write in the language of the request."))
        }
    }

    @Test func researchReportSkipsPagesThatCannotBeFetched() async throws {
        let search = ShippedPlanFakes.Search()
        // The reader picks every listed url; only the first of each query's results can be fetched.
        let reader: @Sendable (ModelRequest) -> JSONValue = { request in
            let urls = request.prompt.split(separator: "\n").compactMap { line -> JSONValue? in
                guard line.hasPrefix("- https://"), let colon = line.dropFirst(2).firstIndex(of: " ") else { return nil }
                return .string(String(line[line.index(line.startIndex, offsetBy: 2)..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: ":")))
            }
            return ["urls": .array(Array(urls.prefix(6)))]
        }
        let fetch = PrefixFetch(readable: "/1")
        let (outcome, events) = await ShippedPlanFakes.run(
            try ShippedPlanFakes.load("research_report"), inputs: ["task": "How are AI agents evaluated?", "max_iterations": 1],
            model: ShippedPlanFakes.model(judgeScores: [9], overrides: ["reading_list": reader]), search: search, fetch: fetch
        )
        try #require(outcome.status == .completed, "\(outcome.failure?.description ?? "")")
        let read = try #require(ShippedPlanFakes.outputs(events, of: "read").last?.output)
        #expect(read["pages"]?.arrayValue?.isEmpty == false)
        #expect(read["failed"]?.arrayValue?.isEmpty == false, "unreadable pages are recorded and skipped")
        #expect((outcome.result?["metadata"]?["pages_read"]?.integerValue ?? 0) >= 1)
        #expect(outcome.report?.contains("## Limitations") == true)
    }

    @Test func industryAnalysisTablesKeepOnlyFiguresWithARealSource() async throws {
        let figures: @Sendable (ModelRequest) -> JSONValue = { _ in
            [
                "market": [
                    ["metric": "Market size", "value": "$5.1bn", "year": "2026", "source": 1],
                    ["metric": "Invented size", "value": "$99bn", "year": "2026", "source": 77],
                ],
                "players": [["name": "Acme", "segment": "Platforms", "headquarters": "Berlin", "scale": "$1bn revenue", "position": "Leader", "recent_move": "Raised", "sources": [1, 77]]],
            ]
        }
        let (outcome, _) = await ShippedPlanFakes.run(
            try ShippedPlanFakes.load("industry_analysis"), inputs: ["task": "The AI agent market", "max_iterations": 1],
            model: ShippedPlanFakes.model(judgeScores: [9], overrides: ["figures": figures])
        )
        try #require(outcome.status == .completed, "\(outcome.failure?.description ?? "")")
        let report = try #require(outcome.report)
        #expect(report.contains("| Market size | $5.1bn | 2026 | [1] |"))
        #expect(!report.contains("Invented size") && !report.contains("[77]"))
        #expect(outcome.result?["players"]?[0]?["sources"] == [1])
    }

    /// news_report hands each section its own 4 most relevant sources (list.relevant), not all
    /// the sources found: the prompt tokens a report costs grow with the sections, not with the
    /// research rounds.
    @Test func eachNewsSectionGetsItsOwnSources() async throws {
        let search = ShippedPlanFakes.Search()
        let model = ShippedPlanFakes.model(judgeScores: [6, 6, 8])
        let (outcome, _) = await ShippedPlanFakes.run(
            try ShippedPlanFakes.load("news_report"), inputs: ["task": "AI agents this week", "max_iterations": 3],
            model: model, search: search
        )
        try #require(outcome.status == .completed, "\(outcome.failure?.description ?? "")")
        let sectionPrompts = model.requests.filter { $0.metadata.stepID?.hasSuffix("section_text") == true }.map(\.prompt)
        try #require(!sectionPrompts.isEmpty)
        let found = search.urls.count
        try #require(found > 4, "the research found \(found) sources")
        for prompt in sectionPrompts {
            let listed = prompt.split(separator: "\n").filter { $0.first == "[" && $0.contains("] ") }
            #expect(listed.count == 4, "a section prompt lists \(listed.count) of \(found) sources")
        }
    }
}

/// Fetch that reads urls ending in `readable` and fails the others as a server would.
struct PrefixFetch: FetchProvider {
    var readable: String

    func fetch(url: String, maxBytes: Int?) async throws -> FetchedPage {
        guard url.hasSuffix(readable) else { throw ProviderError(.notFound, "HTTP 404 for \(url)", provider: "fake") }
        return FetchedPage(url: url, title: "Page \(url)", text: "The full text of \(url): methods, numbers and caveats.")
    }

}
