import Foundation
import SluiceJSON
import Testing

/// The web pages in a real headless Chromium (driven over the DevTools protocol, see
/// ``HeadlessChromium``) against a real `sluice serve --offline`: what a person sees and does.
///
/// Runs when Chromium is installed; with `CI=true` a missing Chromium is a failure, not a skip.
/// Every wait polls the DOM for a condition under one generous limit; nothing is timed.
@Suite(.serialized, .timeLimit(.minutes(5))) struct WebPageTests {
    static let enabled = HeadlessChromium.available || HeadlessChromium.inCI

    /// A browser and a server for one test; both end with it.
    static func withBrowser(
        plans: String = TestPaths.shippedPlans, delayMilliseconds: Int = 0, environment: [String: String] = [:],
        _ body: (HeadlessChromium, ServeProcess) async throws -> Void
    ) async throws {
        try #require(HeadlessChromium.available, "CI=true but there is no Chromium: .ci/run must install Debian's chromium")
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-web-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: home) }
        let server = try await ServeProcess(home: home, delayMilliseconds: delayMilliseconds, plans: plans, environment: environment)
        defer { server.stop() }
        let browser = try await HeadlessChromium()
        defer { browser.close() }
        try await body(browser, server)
    }

    static func startRun(_ server: ServeProcess, plan: String, inputs: JSONValue, key: String? = nil) async throws -> String {
        let headers = key.map { ["Authorization": "Bearer \($0)"] } ?? [:]
        let answer = try await HTTP.request(server.port, "POST", "/v1/plans/\(plan)/runs", headers: headers, json: ["inputs": inputs])
        #expect(answer.status == 202, "\(answer.text)")
        return try #require(answer.json?["run_id"]?.stringValue)
    }

    /// A JavaScript string literal of `text`.
    static func literal(_ text: String) -> String { JSONValue.string(text).serialized(pretty: false) }

    @Test(.enabled(if: enabled, "Chromium is not installed (CI installs Debian's chromium)"))
    func theRunsListShowsARunAndItsPageShowsTheReportWithCitations() async throws {
        try await Self.withBrowser { browser, server in
            let runID = try await Self.startRun(server, plan: "news_report", inputs: ["task": "AI chips"])
            let tab = try await browser.open("http://127.0.0.1:\(server.port)/")
            try await tab.waitFor("the run in the list", "[...document.querySelectorAll('#runs a.run-link')].some(a => a.textContent === \(Self.literal(runID)))")
            try await tab.waitFor("the list to say the run completed", "(document.querySelector('#runs tr[data-run=\(Self.literal(runID))] .badge') || {}).textContent === 'completed'")
            try await tab.waitFor("the plan's link", "document.querySelector('#plans a[href=\"/plans/news_report\"]')")

            // Opened after the run ended: the same page, from the recorded events.
            try await tab.evaluate("document.querySelector('#runs a.run-link').click()")
            try await tab.waitFor("the report", "document.querySelector('#report .markdown h2')")
            // Every [n] links to its entry in the sources list, and that entry to its page.
            let citations = try await tab.waitFor("citations", "document.querySelectorAll('#report a.cite').length")
            #expect((citations.integerValue ?? 0) > 0)
            let broken = try await tab.evaluate("""
                [...document.querySelectorAll('#report a.cite')].filter(a => {
                  const target = document.getElementById(a.getAttribute('href').slice(1));
                  return !target || !/^https?:/.test(target.querySelector('a').href);
                }).length
                """)
            #expect(broken == 0)
            // The gate judged the research twice: a chart with a point per round.
            let rounds = try await HTTP.request(server.port, "GET", "/v1/runs/\(runID)/events").text.components(separatedBy: "\"type\":\"gate.evaluated\"").count - 1
            #expect(rounds == 2, "news_report offline's gate is expected to loop once")
            let points = try await tab.evaluate("document.querySelectorAll('svg.gate-chart circle[data-dimension=\"score\"]').length")
            #expect(points == .integer(Int64(rounds)))
            let labels = try await tab.evaluate("[...document.querySelectorAll('svg.gate-chart .round-label')].map(t => t.textContent).join(',')")
            #expect(labels == "round 1,round 2")
            // Tokens and cost of the model calls, and the map's items nested under it.
            #expect(try await tab.evaluate("document.querySelectorAll('#calls tr').length").integerValue ?? 0 > 0)
            #expect(try await tab.evaluate("document.querySelectorAll('li.step[data-step=\"sections\"] li.group[data-group=\"item 1\"] li.step[data-step=\"section_text\"]').length") == 1)
        }
    }

    @Test(.enabled(if: enabled, "Chromium is not installed (CI installs Debian's chromium)"))
    func aRunStartedFromThePlanFormStreamsItsStepsLive() async throws {
        try await Self.withBrowser(delayMilliseconds: 150) { browser, server in
            let tab = try await browser.open("http://127.0.0.1:\(server.port)/plans/news_report")
            try await tab.waitFor("the form", "document.querySelector('#run-form #input-task')")
            try await tab.waitFor("the step graph", "document.querySelector('svg.graph g.node[data-step=\"quality\"]') && document.querySelector('svg.graph rect.group.loop')")
            #expect(try await tab.evaluate("document.querySelector('#input-days').value") == "7")
            #expect(try await tab.evaluate("[...document.querySelector('#input-locale').options].map(o => o.textContent).join(',')") == "—,en,zh", "an enum without a default can be left out")
            // What the server refuses is said next to its field (the browser's own checks off).
            try await tab.evaluate("const f = document.querySelector('#run-form'); f.noValidate = true; document.querySelector('#input-days').value = '0'; document.querySelector('#input-task').value = 'AI chips'; document.querySelector('#start').click()")
            let refusal = try await tab.waitFor("the field's message", "!document.querySelector('#error-days').hidden && document.querySelector('#error-days').textContent")
            #expect(refusal == "must be >= 1, got 0")
            #expect(try await tab.evaluate("location.pathname") == "/plans/news_report")
            try await tab.evaluate("document.querySelector('#input-days').value = '7'; document.querySelector('#start').click()")
            let path = try await tab.waitFor("the run's page", "location.pathname.startsWith('/runs/') && location.pathname")
            // Steps arrive while the run goes on: some completed, the run still running.
            try await tab.waitFor("steps streamed while the run runs", """
                document.querySelector('#status .badge') && document.querySelector('#status .badge').textContent === 'running' &&
                document.querySelectorAll('#steps li.step[data-state=completed]').length >= 3
                """)
            try await tab.waitFor("model text streamed in", "[...document.querySelectorAll('pre.delta')].some(p => p.textContent.length > 0)")
            try await tab.waitFor("the run's end", "document.querySelector('#status .badge').textContent === 'completed'")
            try await tab.waitFor("the report", "document.querySelector('#report .markdown')")
            let runID = String(try #require(path.stringValue).dropFirst("/runs/".count))
            let summary = try await HTTP.request(server.port, "GET", "/v1/runs/\(runID)")
            #expect(summary.json?["inputs"]?["task"] == "AI chips")
            #expect(summary.json?["status"] == "completed")
        }
    }

    @Test(.enabled(if: enabled, "Chromium is not installed (CI installs Debian's chromium)"))
    func aConfirmStepWaitsForApproveOrReject() async throws {
        try await Self.withBrowser(plans: TestPaths.fixturePlans) { browser, server in
            for approve in [true, false] {
                let tab = try await browser.open("http://127.0.0.1:\(server.port)/plans/ask")
                try await tab.waitFor("the form", "document.querySelector('#run-form #input-topic')")
                try await tab.evaluate("document.querySelector('#input-topic').value = 'sluice gates'; document.querySelector('#start').click()")
                try await tab.waitFor("the run's page", "location.pathname.startsWith('/runs/')")
                let question = try await tab.waitFor("the question", "(document.querySelector('li.step[data-step=approve] .question button.approve') || false) && document.querySelector('li.step[data-step=approve] .question strong').textContent")
                #expect(question == "Write about sluice gates?")
                // The run waits in the store for the answer, parked: no process runs it.
                try await tab.waitFor("the waiting run", "document.querySelector('#status .badge').textContent === 'waiting'")
                try await tab.evaluate("document.querySelector('.question button.\(approve ? "approve" : "reject")').click()")
                try await tab.waitFor("the run's end", "document.querySelector('#status .badge').textContent === \(approve ? "'completed'" : "'failed'")")
                #expect(try await tab.evaluate("document.querySelectorAll('.question button').length") == 0)
                if !approve {
                    #expect(try await tab.evaluate("document.querySelector('#run-error').textContent.includes('approval was refused')") == true)
                }
            }
        }
    }

    /// A run that failed at its confirm step (nobody to ask) is resumed from its page, which
    /// then asks; approved, it completes, and the page shows the whole log.
    @Test(.enabled(if: enabled, "Chromium is not installed (CI installs Debian's chromium)"))
    func theResumeButtonContinuesAFailedRun() async throws {
        try await Self.withBrowser(plans: TestPaths.fixturePlans) { browser, server in
            let runID = try await Self.startRun(server, plan: "ask", inputs: ["topic": "weirs"])
            _ = try await HTTP.request(server.port, "GET", "/v1/runs/\(runID)/events")
            let tab = try await browser.open("http://127.0.0.1:\(server.port)/runs/\(runID)")
            try await tab.waitFor("the failed run", "document.querySelector('#status .badge') && document.querySelector('#status .badge').textContent === 'failed'")
            try await tab.waitFor("the resume button", "!document.querySelector('#resume').hidden")
            try await tab.evaluate("document.querySelector('#resume').click()")
            try await tab.waitFor("the question", "document.querySelector('.question button.approve')")
            try await tab.evaluate("document.querySelector('.question button.approve').click()")
            try await tab.waitFor("the run's end", "document.querySelector('#status .badge').textContent === 'completed'")
            #expect(try await tab.evaluate("document.querySelector('#resume').hidden") == true)
            #expect(try await HTTP.request(server.port, "GET", "/v1/runs/\(runID)").json?["status"] == "completed")
            // Opened again: the whole log, the failed attempt and the continuation.
            try await tab.navigate("http://127.0.0.1:\(server.port)/runs/\(runID)")
            try await tab.waitFor("the run's end", "document.querySelector('#status .badge') && document.querySelector('#status .badge').textContent === 'completed'")
            // The failed attempt, the attempt that asked (and was parked), the answered one.
            #expect(try await tab.evaluate("document.querySelectorAll('li.step[data-step=approve]').length") == 3)
            #expect(try await tab.evaluate("document.querySelector('#log').textContent.includes('run.resumed')") == true)
        }
    }

    /// A question asked before the server restarted is on the run's page after it (the run
    /// waits in the store), and answering it there continues the run on the new server.
    @Test(.enabled(if: enabled, "Chromium is not installed (CI installs Debian's chromium)"))
    func aQuestionAskedBeforeARestartIsAnsweredAfterIt() async throws {
        try #require(HeadlessChromium.available, "CI=true but there is no Chromium: .ci/run must install Debian's chromium")
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-web-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: home) }
        let first = try await ServeProcess(home: home, delayMilliseconds: 0, plans: TestPaths.fixturePlans)
        let started = try await HTTP.request(first.port, "POST", "/v1/plans/ask/runs", json: ["inputs": ["topic": "weirs"], "confirm": "ask"])
        let runID = try #require(started.json?["run_id"]?.stringValue, "\(started.text)")
        var status = ""
        for _ in 0..<1500 where status != "waiting" {
            status = try await HTTP.request(first.port, "GET", "/v1/runs/\(runID)").json?["status"]?.stringValue ?? ""
            if status != "waiting" { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(status == "waiting")
        first.kill()

        let second = try await ServeProcess(home: home, delayMilliseconds: 0, plans: TestPaths.fixturePlans)
        defer { second.stop() }
        let browser = try await HeadlessChromium()
        defer { browser.close() }
        let tab = try await browser.open("http://127.0.0.1:\(second.port)/runs/\(runID)")
        let question = try await tab.waitFor("the question", "(document.querySelector('li.step[data-step=approve] .question button.approve') || false) && document.querySelector('li.step[data-step=approve] .question strong').textContent")
        #expect(question == "Write about weirs?")
        try await tab.waitFor("the waiting run", "document.querySelector('#status .badge').textContent === 'waiting'")
        try await tab.evaluate("document.querySelector('.question button.approve').click()")
        try await tab.waitFor("the run's end", "document.querySelector('#status .badge').textContent === 'completed'")
        #expect(try await HTTP.request(second.port, "GET", "/v1/runs/\(runID)").json?["status"] == "completed")
    }

    @Test(.enabled(if: enabled, "Chromium is not installed (CI installs Debian's chromium)"))
    func theCancelButtonCancelsTheRun() async throws {
        try await Self.withBrowser(delayMilliseconds: 2000) { browser, server in
            let runID = try await Self.startRun(server, plan: "news_report", inputs: ["task": "AI chips"])
            let tab = try await browser.open("http://127.0.0.1:\(server.port)/runs/\(runID)")
            try await tab.waitFor("the cancel button", "document.querySelector('#cancel') && !document.querySelector('#cancel').hidden")
            try await tab.evaluate("document.querySelector('#cancel').click()")
            try await tab.waitFor("the run cancelled", "document.querySelector('#status .badge').textContent === 'cancelled'")
            #expect(try await tab.evaluate("document.querySelector('#cancel').hidden") == true)
            #expect(try await HTTP.request(server.port, "GET", "/v1/runs/\(runID)").json?["status"] == "cancelled")
        }
    }

    @Test(.enabled(if: enabled, "Chromium is not installed (CI installs Debian's chromium)"))
    func aHostileReportIsRenderedInert() async throws {
        let hostile = """
            # Findings <script>window.__pwned = 1</script>

            See [the source](javascript:window.__pwned=2) and [a page](https://example.com/a) [1].

            <img src="x" onerror="window.__pwned=3"> <b>raw</b> **bold**

            | a | b |
            | --- | --- |
            | <iframe src="javascript:window.__pwned=4"></iframe> | [x](data:text/html,hi) |

            - [1] [Example](https://example.com/one)
            """
        try await Self.withBrowser(plans: TestPaths.fixturePlans) { browser, server in
            let runID = try await Self.startRun(server, plan: "echo_report", inputs: ["markdown": .string(hostile)])
            let tab = try await browser.open("http://127.0.0.1:\(server.port)/runs/\(runID)")
            try await tab.waitFor("the report", "document.querySelector('#report .markdown h2')")
            #expect(try await tab.evaluate("window.__pwned === undefined") == true)
            #expect(try await tab.evaluate("document.querySelectorAll('#report script, #report img, #report iframe, #report b').length") == 0)
            // The markup shows as the text it is.
            #expect(try await tab.evaluate("document.querySelector('#report .markdown h2').textContent") == "Findings <script>window.__pwned = 1</script>")
            #expect(try await tab.evaluate("document.querySelector('#report .markdown').textContent.includes('<img src=\"x\" onerror=')") == true)
            // Links go to http(s) or this page only.
            let hrefs = try await tab.evaluate("[...document.querySelectorAll('#report a')].map(a => a.getAttribute('href')).join(' ')")
            #expect(hrefs == "# https://example.com/a #source-1 # https://example.com/one")
            #expect(try await tab.evaluate("document.querySelectorAll('#report strong').length") == 1)
            // The page's own policy: no inline script could run even if some got through.
            let policy = try await HTTP.request(server.port, "GET", "/runs/\(runID)").headers["content-security-policy"] ?? ""
            #expect(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"))
        }
    }

    /// After a restart the run is no longer in memory: its page comes from the store, the same.
    @Test(.enabled(if: enabled, "Chromium is not installed (CI installs Debian's chromium)"))
    func aFinishedRunLooksTheSameAfterARestart() async throws {
        try #require(HeadlessChromium.available, "CI=true but there is no Chromium: .ci/run must install Debian's chromium")
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-web-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: home) }
        let first = try await ServeProcess(home: home, delayMilliseconds: 0, plans: TestPaths.fixturePlans)
        let runID = try await Self.startRun(first, plan: "echo_report", inputs: ["markdown": "# Kept\n\nSee [1].\n\n- [1] [One](https://example.com/1)"])
        _ = try await HTTP.request(first.port, "GET", "/v1/runs/\(runID)/events")
        first.stop()
        let second = try await ServeProcess(home: home, delayMilliseconds: 0, plans: TestPaths.fixturePlans)
        defer { second.stop() }
        let browser = try await HeadlessChromium()
        defer { browser.close() }
        let tab = try await browser.open("http://127.0.0.1:\(second.port)/")
        try await tab.waitFor("the run in the list", "[...document.querySelectorAll('#runs a.run-link')].some(a => a.textContent === \(Self.literal(runID)))")
        try await tab.navigate("http://127.0.0.1:\(second.port)/runs/\(runID)")
        try await tab.waitFor("the report", "document.querySelector('#report .markdown h2') && document.querySelector('#report .markdown h2').textContent === 'Kept'")
        #expect(try await tab.evaluate("document.querySelector('#status .badge').textContent") == "completed")
        #expect(try await tab.evaluate("document.querySelector('li.step[data-step=report]').getAttribute('data-state')") == "completed")
        // The run's inputs and each step's output, as JSON text.
        let inputs = try await tab.evaluate("JSON.parse(document.querySelector('#main > details.output pre').textContent).markdown")
        #expect(inputs.stringValue?.hasPrefix("# Kept") == true)
        #expect(try await tab.evaluate("JSON.parse(document.querySelector('li.step[data-step=report] > details.output pre').textContent).startsWith('# Kept')") == true)
        #expect(try await tab.evaluate("document.querySelector('#report a.cite').getAttribute('href')") == "#source-1")
    }

    @Test(.enabled(if: enabled, "Chromium is not installed (CI installs Debian's chromium)"))
    func aReportRendersItsMarkdown() async throws {
        let report = """
            # Weekly brief

            Intro with *emphasis*, **strong**, `code` and a [link](https://example.com/x) [2].

            ## Details

            1. first
            2. second, continued
               on the next line
            - not ordered

            | Name | Value |
            | :--- | ---: |
            | a | 1 |
            | b | 2 |

            > quoted **text**

            ```
            let x = "<b>";
            ```

            ---

            ## Sources

            - [1] [One](https://example.com/1)
            - [2] [Two](https://example.com/2)
            """
        try await Self.withBrowser(plans: TestPaths.fixturePlans) { browser, server in
            let runID = try await Self.startRun(server, plan: "echo_report", inputs: ["markdown": .string(report)])
            let tab = try await browser.open("http://127.0.0.1:\(server.port)/runs/\(runID)")
            try await tab.waitFor("the report", "document.querySelector('#report .markdown')")
            let shape = try await tab.evaluate("""
                (() => { const m = document.querySelector('#report .markdown'); const n = (s) => m.querySelectorAll(s).length;
                  return [n('h2'), n('h3'), n('ol > li'), n('ul > li'), n('th'), n('td'), n('blockquote strong'), n('pre code'),
                          n('p code'), n('em'), n('hr'), n('a.cite')].join(','); })()
                """)
            #expect(shape == "1,2,2,3,2,4,1,1,1,1,1,1")
            #expect(try await tab.evaluate("document.querySelector('#report ol li:nth-child(2)').textContent") == "second, continued on the next line")
            #expect(try await tab.evaluate("document.querySelector('#report pre code').textContent") == "let x = \"<b>\";")
            #expect(try await tab.evaluate("document.querySelector('#report a.cite').getAttribute('href')") == "#source-2")
            #expect(try await tab.evaluate("document.querySelector('#source-2 a').href") == "https://example.com/2")
        }
    }

    @Test(.enabled(if: enabled, "Chromium is not installed (CI installs Debian's chromium)"))
    func withKeysThePageAsksForOneAndShowsOnlyThatUsersRuns() async throws {
        try await Self.withBrowser(plans: TestPaths.fixturePlans, environment: ["SLUICE_API_KEYS": "alice-key:alice,bob-key:bob"]) { browser, server in
            let alices = try await Self.startRun(server, plan: "echo_report", inputs: ["markdown": "alice's"], key: "alice-key")
            let bobs = try await Self.startRun(server, plan: "echo_report", inputs: ["markdown": "bob's"], key: "bob-key")
            let tab = try await browser.open("http://127.0.0.1:\(server.port)/")
            try await tab.waitFor("the key form", "!document.querySelector('#keyform').hidden")
            try await tab.evaluate("document.querySelector('#key').value = 'alice-key'; document.querySelector('#keyform button').click()")
            try await tab.waitFor("alice's run", "[...document.querySelectorAll('#runs a.run-link')].some(a => a.textContent === \(Self.literal(alices)))")
            #expect(try await tab.evaluate("document.querySelectorAll('#runs a.run-link').length") == 1)
            #expect(try await tab.evaluate("document.body.textContent.includes(\(Self.literal(bobs)))") == false)
            // Bob's run's page, opened by alice: not there.
            try await tab.navigate("http://127.0.0.1:\(server.port)/runs/\(bobs)")
            try await tab.waitFor("the refusal", "document.querySelector('#main .error') && document.querySelector('#main .error').textContent.includes('No run')")
            #expect(try await tab.evaluate("document.querySelector('#report')") == .null)
        }
    }
}
