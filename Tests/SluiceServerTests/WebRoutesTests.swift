import Foundation
import SluiceJSON
import Testing
@testable import SluiceServer

/// The web pages' HTTP side: what is served without a key and what is not, the security
/// headers, the size of a first load, the JSON routes the pages added (`GET /v1/runs`,
/// `GET /v1/plans/{name}`), and the embedded assets matching their source files.
@Suite(.timeLimit(.minutes(3))) struct WebRoutesTests {
    static let keys = SluiceHTTPServer.Configuration(port: 0, apiKeys: APIKeys([("alice-key", "alice"), ("bob-key", "bob")]))
    static let alice = ["Authorization": "Bearer alice-key"]
    static let bob = ["Authorization": "Bearer bob-key"]
    static let pages: [(path: String, scripts: [String])] = [
        ("/", ["app.js", "runs.js"]),
        ("/runs/run_123", ["app.js", "markdown.js", "charts.js", "run.js"]),
        ("/plans/news_report", ["app.js", "charts.js", "plan.js"]),
    ]

    @Test(arguments: pages.map(\.path))
    func aPageIsServedWithoutAKeyWithItsPolicyAndLoadsUnder100KB(path: String) async throws {
        try await ServerHarness.withServer(executor: GatedExecutor(), configuration: Self.keys) { port, _ in
            let page = try await HTTP.request(port, "GET", path)
            #expect(page.status == 200)
            #expect(page.headers["content-type"] == "text/html; charset=utf-8")
            let policy = try #require(page.headers["content-security-policy"])
            #expect(policy.contains("script-src 'self'") && policy.contains("default-src 'none'") && !policy.contains("unsafe"))
            #expect(page.headers["x-content-type-options"] == "nosniff")
            // No inline script: every <script> names a file of ours.
            let scripts = page.text.components(separatedBy: "<script").dropFirst()
            #expect(!scripts.isEmpty && scripts.allSatisfy { $0.hasPrefix(" src=\"/assets/") && $0.contains("></script>") })
            var total = page.body.count
            let assets = (Self.pages.first { $0.path == path }?.scripts ?? []) + ["app.css"]
            for asset in assets {
                #expect(page.text.contains("/assets/\(asset)"))
                let answer = try await HTTP.request(port, "GET", "/assets/\(asset)")
                #expect(answer.status == 200, "\(asset)")
                total += answer.body.count
            }
            #expect(total < 100_000, "a first load of \(path) is \(total) bytes")
        }
    }

    @Test func theDataRoutesStillNeedTheKeyAndTheHostIsStillChecked() async throws {
        try await ServerHarness.withServer(executor: GatedExecutor(), configuration: Self.keys) { port, _ in
            let list = try await HTTP.request(port, "GET", "/v1/runs")
            #expect(list.status == 401)
            #expect(try await HTTP.request(port, "GET", "/v1/plans/echo").status == 401)
            #expect(try await HTTP.request(port, "GET", "/", host: "evil.example").status == 403)
            #expect(try await HTTP.request(port, "GET", "/assets/app.js", host: "evil.example").status == 403)
            #expect(try await HTTP.request(port, "GET", "/", headers: ["Origin": "https://evil.example"]).status == 403)
            #expect(try await HTTP.request(port, "GET", "/assets/nothing.js").status == 404)
            // Only the page paths are open: deeper paths under them are not pages.
            #expect(try await HTTP.request(port, "GET", "/runs/a/b").status == 401)
        }
    }

    @Test func theRunsListShowsOnlyTheCallersRunsAndFilters() async throws {
        try await ServerHarness.withServer(configuration: Self.keys) { port, _ in
            let mine = try await HTTP.request(port, "POST", "/v1/plans/echo/runs", headers: Self.alice, json: ["text": "hi"])
            let theirs = try await HTTP.request(port, "POST", "/v1/plans/echo/runs", headers: Self.bob, json: ["text": "yo"])
            let mineID = try #require(mine.json?["run_id"]?.stringValue)
            let theirsID = try #require(theirs.json?["run_id"]?.stringValue)
            // Wait for the end (the list's status filter is then stable).
            _ = try await HTTP.request(port, "GET", "/v1/runs/\(mineID)/events", headers: Self.alice)
            let list = try await HTTP.request(port, "GET", "/v1/runs", headers: Self.alice)
            #expect(list.status == 200)
            let runs = list.json?["runs"]?.arrayValue ?? []
            #expect(runs.compactMap { $0["run_id"]?.stringValue } == [mineID])
            #expect(runs.first?["user"] == "alice")
            #expect(runs.first?["plan"] == "echo")
            #expect(runs.first?["usage"] != nil)
            #expect(!(list.text.contains(theirsID)))
            let completed = try await HTTP.request(port, "GET", "/v1/runs?status=completed&plan=echo", headers: Self.alice)
            #expect(completed.json?["runs"]?.arrayValue?.count == 1)
            #expect(try await HTTP.request(port, "GET", "/v1/runs?status=failed", headers: Self.alice).json?["runs"]?.arrayValue?.count == 0)
            #expect(try await HTTP.request(port, "GET", "/v1/runs?plan=news_report", headers: Self.alice).json?["runs"]?.arrayValue?.count == 0)
            let badStatus = try await HTTP.request(port, "GET", "/v1/runs?status=done", headers: Self.alice)
            #expect(badStatus.status == 400)
            #expect(badStatus.text.contains("unknown status 'done'"))
            #expect(try await HTTP.request(port, "GET", "/v1/runs?limit=0", headers: Self.alice).status == 400)
        }
    }

    @Test func aPlanComesWithItsStepGraphLaidOut() async throws {
        try await ServerHarness.withServer(executor: GatedExecutor(), configuration: Self.keys) { port, _ in
            let answer = try await HTTP.request(port, "GET", "/v1/plans/news_report", headers: Self.alice)
            #expect(answer.status == 200)
            #expect(answer.json?["input_schema"]?["properties"]?["task"] != nil)
            let graph = try #require(answer.json?["graph"])
            let nodes = graph["nodes"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            #expect(nodes.first == "start" && nodes.last == "finish")
            #expect(nodes.contains("quality") && nodes.contains("section_text"))
            let groups = graph["groups"]?.arrayValue ?? []
            #expect(groups.contains { $0["id"] == "research" && $0["kind"] == "loop" })
            #expect(groups.contains { $0["id"] == "sections" && $0["kind"] == "map" })
            // The loop's edge back, labelled with its exit condition; edges within the drawing.
            let edges = graph["edges"]?.arrayValue ?? []
            #expect(edges.contains { $0["dashed"] == true && ($0["label"]?.stringValue ?? "").hasPrefix("until ") })
            let height = graph["height"]?.doubleValue ?? 0
            let ys = edges.flatMap { $0["points"]?.arrayValue ?? [] }.compactMap { $0.arrayValue?.last?.doubleValue }
            #expect(!ys.isEmpty && ys.allSatisfy { $0 > 0 && $0 < height })
            // Boxes of the loop's body lie inside the loop's box.
            let research = try #require(groups.first { $0["id"] == "research" })
            let top = research["y"]?.doubleValue ?? 0, bottom = top + (research["h"]?.doubleValue ?? 0)
            let quality = try #require(graph["nodes"]?.arrayValue?.first { $0["id"] == "quality" })
            #expect((quality["y"]?.doubleValue ?? -1) > top && (quality["y"]?.doubleValue ?? .infinity) < bottom)
            let missing = try await HTTP.request(port, "GET", "/v1/plans/nothing", headers: Self.alice)
            #expect(missing.status == 404)
            #expect(missing.text.contains("no plan named 'nothing'"))
        }
    }

    @Test func aConfirmStepIsAnsweredOverRESTWhenTheRunAsksForIt() async throws {
        try await ServerHarness.withServer(configuration: Self.keys) { port, _ in
            let started = try await HTTP.request(port, "POST", "/v1/plans/ask/runs", headers: Self.alice, json: ["inputs": ["topic": "locks"], "confirm": "ask"])
            #expect(started.status == 202, "\(started.text)")
            let runID = try #require(started.json?["run_id"]?.stringValue)
            let path = "/v1/runs/\(runID)/answer"
            #expect(try await HTTP.request(port, "POST", path, headers: Self.alice, json: ["approve": "yes"]).status == 400)
            #expect(try await HTTP.request(port, "POST", path, headers: Self.bob, json: ["approve": true]).status == 404)
            // The question may not be asked yet: answer until it is taken.
            var answer = try await HTTP.request(port, "POST", path, headers: Self.alice, json: ["approve": true])
            while answer.status == 409 {
                try await Task.sleep(for: .milliseconds(50))
                answer = try await HTTP.request(port, "POST", path, headers: Self.alice, json: ["approve": true])
            }
            #expect(answer.status == 200, "\(answer.text)")
            #expect(answer.json?["step"] == "approve")
            let events = try await HTTP.request(port, "GET", "/v1/runs/\(runID)/events", headers: Self.alice)
            #expect(events.text.contains("event: final_result"))
            // Answered once: there is no question left.
            #expect(try await HTTP.request(port, "POST", path, headers: Self.alice, json: ["approve": true]).status == 409)
            let wrongMode = try await HTTP.request(port, "POST", "/v1/plans/ask/runs", headers: Self.alice, json: ["inputs": .object([:]), "confirm": "later"])
            #expect(wrongMode.status == 400)
            // Without "confirm": "ask", nobody is asked: the step's fallback applies as before.
            let plain = try await HTTP.request(port, "POST", "/v1/plans/ask/runs", headers: Self.alice, json: ["inputs": .object([:])])
            let plainID = try #require(plain.json?["run_id"]?.stringValue)
            let plainEvents = try await HTTP.request(port, "GET", "/v1/runs/\(plainID)/events", headers: Self.alice)
            #expect(!plainEvents.text.contains("input.requested"))
        }
    }

    /// A finished run is listed from the store after a restart, and its page's data is there.
    @Test func aRunIsListedFromTheStoreAfterARestart() async throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-web-restart-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: home) }
        let first = try await ServeProcess(home: home, delayMilliseconds: 0, plans: TestPaths.fixturePlans)
        let started = try await HTTP.request(first.port, "POST", "/v1/plans/echo/runs", json: ["text": "kept"])
        let runID = try #require(started.json?["run_id"]?.stringValue)
        _ = try await HTTP.request(first.port, "GET", "/v1/runs/\(runID)/events")
        await first.stop()
        let second = try await ServeProcess(home: home, delayMilliseconds: 0, plans: TestPaths.fixturePlans)
        defer { second.terminate() }
        let list = try await HTTP.request(second.port, "GET", "/v1/runs")
        let run = try #require(list.json?["runs"]?.arrayValue?.first { $0["run_id"]?.stringValue == runID }, "\(list.text)")
        #expect(run["status"] == "completed")
        #expect(run["user"] == "anonymous")
        let events = try await HTTP.request(second.port, "GET", "/v1/runs/\(runID)/events")
        #expect(events.text.contains("event: final_result"))
    }

    @Test func onlyTheOwnerResumesAStoppedRunAndOnlyOnce() async throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-web-resume-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: home) }
        let server = try await ServeProcess(home: home, delayMilliseconds: 0, plans: TestPaths.fixturePlans, environment: ["SLUICE_API_KEYS": "alice-key:alice,bob-key:bob"])
        defer { server.terminate() }
        // `ask` fails at its confirm step when nobody is asked.
        let failed = try await HTTP.request(server.port, "POST", "/v1/plans/ask/runs", headers: Self.alice, json: ["inputs": ["topic": "weirs"]])
        let runID = try #require(failed.json?["run_id"]?.stringValue)
        _ = try await HTTP.request(server.port, "GET", "/v1/runs/\(runID)/events", headers: Self.alice)
        let path = "/v1/runs/\(runID)/resume"
        #expect(try await HTTP.request(server.port, "POST", path, headers: Self.bob, json: .object([:])).status == 404)
        #expect(try await HTTP.request(server.port, "POST", path, headers: Self.alice, json: ["confirm": "later"]).status == 400)
        let resumed = try await HTTP.request(server.port, "POST", path, headers: Self.alice, json: ["confirm": "ask"])
        #expect(resumed.status == 202, "\(resumed.text)")
        var answer = try await HTTP.request(server.port, "POST", "/v1/runs/\(runID)/answer", headers: Self.alice, json: ["approve": true])
        while answer.status == 409 {
            try await Task.sleep(for: .milliseconds(50))
            answer = try await HTTP.request(server.port, "POST", "/v1/runs/\(runID)/answer", headers: Self.alice, json: ["approve": true])
        }
        #expect(answer.status == 200, "\(answer.text)")
        // The events route gives the whole log: the first end, run.resumed, the new end.
        let events = try await HTTP.request(server.port, "GET", "/v1/runs/\(runID)/events", headers: Self.alice).text
        #expect(events.contains("\"type\":\"run.resumed\""))
        #expect(events.contains("event: error") && events.contains("event: final_result"))
        let completed = try await HTTP.request(server.port, "POST", path, headers: Self.alice, json: .object([:]))
        #expect(completed.status == 409)
        #expect(completed.text.contains("only failed, cancelled or interrupted runs"))
    }

    /// A running run's row says what its model calls have spent so far.
    @Test func aRunningRunIsListedWithWhatItHasSpentSoFar() async throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-web-usage-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: home) }
        let server = try await ServeProcess(home: home, delayMilliseconds: 1000)
        defer { server.terminate() }
        let started = try await HTTP.request(server.port, "POST", "/v1/plans/news_report/runs", json: ["task": "AI chips"])
        let runID = try #require(started.json?["run_id"]?.stringValue)
        var row: JSONValue?
        while row == nil {
            let list = try await HTTP.request(server.port, "GET", "/v1/runs")
            let found = list.json?["runs"]?.arrayValue?.first { $0["run_id"]?.stringValue == runID }
            if let found, (found["usage"]?["model_calls"]?.integerValue ?? 0) > 0 { row = found } else { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(row?["status"] == "running")
        #expect((row?["usage"]?["total_tokens"]?.integerValue ?? 0) > 0)
        #expect(try await HTTP.request(server.port, "DELETE", "/v1/runs/\(runID)").status == 202)
    }

    /// `make web` was run after the last edit of an asset.
    @Test func theEmbeddedAssetsMatchTheirSourceFiles() throws {
        let folder = TestPaths.repository.appendingPathComponent("Sources/SluiceServer/Web/Assets")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".js") || $0.hasSuffix(".css") }
        #expect(Set(files) == Set(WebAssets.files.keys))
        for file in files {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            #expect(WebAssets.files[file]?.text == text, "\(file) differs from its embedded copy: run `make web`")
        }
    }
}
