import Foundation
import SluiceFakeServices
import SluiceJSON
import Testing

/// The attacks of "safe by default", each against a real `sluice serve` process over a socket:
/// a served `.env`, cross-site and rebinding requests, held connections, one user taking the
/// whole server, and a model that quotes a key.
@Suite(.timeLimit(.minutes(3))) struct ServeSecurityTests {
    /// A project folder as a user has one: `.env` with a key beside the plans' documents.
    struct Project {
        let root: URL
        let home: String
        static let dotEnvKey = "sk-dotenv-0123456789abcdef"

        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-project-\(UUID().uuidString)")
            home = root.appendingPathComponent(".sluice").path
            let files = FileManager.default
            try files.createDirectory(at: root.appendingPathComponent("docs/.hidden"), withIntermediateDirectories: true)
            try "OPENAI_API_KEY=\(Self.dotEnvKey)\n".write(to: root.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
            try "Acme pays Beta 100 EUR on 1 May.".write(to: root.appendingPathComponent("docs/contract.md"), atomically: true, encoding: .utf8)
            try "secret notes".write(to: root.appendingPathComponent("docs/.hidden/notes.md"), atomically: true, encoding: .utf8)
            try "outside".write(to: root.appendingPathComponent("outside.md"), atomically: true, encoding: .utf8)
            try "KEY=\(Self.dotEnvKey)".write(to: root.appendingPathComponent("docs/.env"), atomically: true, encoding: .utf8)
            try files.createSymbolicLink(atPath: root.appendingPathComponent("docs/link.md").path, withDestinationPath: "../.env")
        }

        func remove() { try? FileManager.default.removeItem(at: root) }
    }

    /// Every SSE data line of an extraction of `path`, joined.
    static func extract(_ port: Int, _ path: String) async throws -> String {
        let (head, reader, _) = try await HTTP.sse(port, "POST", "/v1/extract", json: ["document_path": .string(path)])
        #expect(head.status == 200)
        return await HTTP.drain(reader).map { "\($0.event ?? "message") \($0.data)" }.joined(separator: "\n")
    }

    @Test func withoutADocumentRootNoLocalFileIsRead() async throws {
        let project = try Project()
        defer { project.remove() }
        let server = try await ServeProcess(home: project.home, delayMilliseconds: 1, directory: project.root)
        defer { server.terminate() }
        for path in [".env", "docs/contract.md", project.root.appendingPathComponent(".env").path] {
            let stream = try await Self.extract(server.port, path)
            #expect(stream.contains("local documents are not enabled on this server"), "\(path): \(stream)")
            #expect(stream.contains("--documents DIR"))
            #expect(!stream.contains(Project.dotEnvKey))
        }
    }

    @Test func underADocumentRootHiddenOutsideAndMissingFilesGetOneAnswer() async throws {
        let project = try Project()
        defer { project.remove() }
        let docs = project.root.appendingPathComponent("docs").path
        let server = try await ServeProcess(home: project.home, delayMilliseconds: 1, arguments: ["--documents", docs], directory: project.root)
        defer { server.terminate() }

        let allowed = try await Self.extract(server.port, "contract.md")
        #expect(allowed.contains("final_result"), "\(allowed)")

        let refused = [".env", ".hidden/notes.md", "link.md", "../.env", "../outside.md", "/etc/passwd", "/etc/no-such-file", "missing.md", "a\u{0}.md", "./.env"]
        var messages: Set<String> = []
        for path in refused {
            let stream = try await Self.extract(server.port, path)
            #expect(stream.contains("\nerror {"), "\(path): \(stream)")
            #expect(!stream.contains(Project.dotEnvKey), "\(path) leaked the key")
            #expect(!stream.contains("secret notes"))
            #expect(!stream.contains(project.root.path), "\(path) showed the server's folder")
            let found = stream.split(separator: "\n").compactMap { line -> String? in
                guard line.hasPrefix("error ") else { return nil }
                return (try? JSONParser.parse(Array(line.dropFirst(6).utf8)))?["error_message"]?.stringValue
            }
            let message = try #require(found.first)
            // The same answer whatever the file: only the path as given differs.
            let escapedPath = path.replacingOccurrences(of: "\u{0}", with: "\\u0000")
            messages.insert(message.replacingOccurrences(of: path, with: "PATH").replacingOccurrences(of: escapedPath, with: "PATH"))
        }
        #expect(messages.count == 1, "\(messages)")
        #expect(messages.first?.contains("no document 'PATH' in the document folder") == true, "\(messages)")
    }

    @Test func browsersAndRebindingAreTurnedAway() async throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-home-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: home) }
        let server = try await ServeProcess(home: home, plans: TestPaths.fixturePlans, arguments: ["--allow-host", "sluice.test"])
        defer { server.terminate() }
        let port = server.port
        let plain = ["Content-Type": "text/plain"]
        // Simple requests a web page may send without a preflight.
        for path in ["/v1/plans/echo/runs", "/v1/extract", "/mcp/streaming/orchestrator", "/mcp"] {
            let answer = try await HTTP.request(port, "POST", path, headers: plain, json: ["text": "hi"])
            #expect(answer.status == 415, "\(path): \(answer.status) \(answer.text)")
            #expect(answer.headers["connection"]?.lowercased() == "close")
        }
        // A foreign origin, on every route.
        for (method, path) in [("POST", "/v1/plans/echo/runs"), ("POST", "/v1/extract"), ("GET", "/v1/plans"), ("GET", "/v1/runs/x"), ("POST", "/mcp")] {
            let answer = try await HTTP.request(port, method, path, headers: ["Origin": "https://evil.example"], json: method == "POST" ? ["text": "hi"] : nil)
            #expect(answer.status == 403, "\(method) \(path): \(answer.status)")
        }
        // DNS rebinding: the page's own name as Host.
        for route in ["/v1/plans", "/metrics"] {
            #expect(try await HTTP.request(port, "GET", route, host: "evil.example:\(port)").status == 403)
        }
        let rebound = try await HTTP.request(port, "POST", "/mcp", json: ["jsonrpc": "2.0", "id": 1, "method": "ping"], host: "evil.example")
        #expect(rebound.status == 403)
        #expect(rebound.json?["error"]?["message"]?.stringValue?.contains("host not allowed") == true, "\(rebound.text)")
        // Loopback names, an allowed name and a health check pass.
        #expect(try await HTTP.request(port, "GET", "/v1/plans", host: "localhost:\(port)").status == 200)
        #expect(try await HTTP.request(port, "GET", "/v1/plans", host: "Sluice.Test").status == 200)
        #expect(try await HTTP.request(port, "GET", "/healthz", host: "10.0.0.7:\(port)").status == 200)
        #expect(try await HTTP.request(port, "GET", "/v1/plans", headers: ["Origin": "http://localhost:3000"]).status == 200)
        let started = try await HTTP.request(port, "POST", "/v1/plans/echo/runs", headers: ["Content-Type": "application/json; charset=utf-8"], json: ["text": "hi"])
        #expect(started.status == 202)
        // An error nobody formats by hand still comes out as JSON.
        let unknown = try await HTTP.request(port, "GET", "/v1/nothing-here")
        #expect(unknown.status == 404)
        #expect(unknown.json?["error"] != nil, "\(unknown.text)")
    }

    @Test func connectionsThatHoldTheServerAreClosed() async throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-home-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: home) }
        let server = try await ServeProcess(
            home: home, plans: TestPaths.fixturePlans,
            arguments: ["--idle-timeout", "1", "--body-timeout", "1", "--max-body-bytes", "1000"])
        defer { server.terminate() }
        let port = server.port

        let idle = try HeldConnection(port: port)
        #expect(try await idle.waitForClose(within: 15), "an idle connection stayed open")

        // Slowloris: one header byte every 300 ms never completes a request.
        let slow = try HeldConnection(port: port)
        var closedEarly = false
        for byte in "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".utf8 {
            guard slow.send([byte]) else {
                closedEarly = true
                break
            }
            if try await slow.waitForClose(within: 0.3) {
                closedEarly = true
                break
            }
        }
        #expect(closedEarly, "trickled headers kept the connection open")

        // A stalled body.
        let stalled = try HeldConnection(port: port)
        stalled.send("POST /v1/plans/echo/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"text\":")
        #expect(try await stalled.waitForClose(within: 15), "a stalled body kept the connection open")

        // Too large: 413, then the connection is closed although the client keeps it alive.
        let large = try HeldConnection(port: port)
        let body = "{\"text\": \"" + String(repeating: "a", count: 2000) + "\"}"
        large.send("POST /v1/plans/echo/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        #expect(try await large.waitForClose(within: 15), "the connection stayed open after a 413")
        #expect(large.text.hasPrefix("HTTP/1.1 413"), "\(large.text.prefix(200))")

        // A healthy keep-alive request is still answered.
        #expect(try await HTTP.request(port, "GET", "/healthz").status == 200)
    }

    @Test func oneUserCannotTakeTheWholeServer() async throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-home-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: home) }
        let server = try await ServeProcess(
            home: home, delayMilliseconds: 200,
            arguments: ["--runs-per-user", "2", "--sessions-per-user", "2", "--no-store"],
            environment: ["SLUICE_API_KEYS": "alice-key:alice,bob-key:bob"])
        defer { server.terminate() }
        let port = server.port
        let alice = ["Authorization": "Bearer alice-key"]
        let inputs: JSONValue = ["task": "AI agents this week"]
        var started: [String] = []
        for _ in 0..<2 {
            let answer = try await HTTP.request(port, "POST", "/v1/plans/news_report/runs", headers: alice, json: inputs)
            #expect(answer.status == 202, "\(answer.text)")
            if let id = answer.json?["run_id"]?.stringValue { started.append(id) }
        }
        let refused = try await HTTP.request(port, "POST", "/v1/plans/news_report/runs", headers: alice, json: inputs)
        #expect(refused.status == 429, "\(refused.text)")
        #expect(refused.headers["retry-after"] == "5")
        #expect(refused.json?["error"]?.stringValue?.contains("per-user limit") == true)
        // Another user is not held up by alice.
        let bob = try await HTTP.request(port, "POST", "/v1/plans/news_report/runs", headers: ["X-API-Key": "bob-key"], json: inputs)
        #expect(bob.status == 202)
        // A finished (here: cancelled) run frees its place.
        for id in started { _ = try await HTTP.request(port, "DELETE", "/v1/runs/\(id)", headers: alice) }
        var freed = false
        for _ in 0..<100 where !freed {
            let answer = try await HTTP.request(port, "POST", "/v1/plans/news_report/runs", headers: alice, json: inputs)
            freed = answer.status == 202
            if !freed { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(freed)

        let initialize: JSONValue = [
            "jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": ["protocolVersion": "2025-11-25", "capabilities": .object(JSONObject()), "clientInfo": ["name": "t", "version": "1"]],
        ]
        let mcp = alice.merging(["Accept": "application/json, text/event-stream"]) { $1 }
        for _ in 0..<2 {
            #expect(try await HTTP.request(port, "POST", "/mcp", headers: mcp, json: initialize).status == 200)
        }
        let third = try await HTTP.request(port, "POST", "/mcp", headers: mcp, json: initialize)
        #expect(third.status == 429)
        #expect(third.headers["retry-after"] != nil)
        #expect(third.json?["error"]?["message"]?.stringValue?.contains("MCP sessions") == true, "\(third.text)")
    }

    @Test func aKeyQuotedByTheModelIsNeverStreamedOrStored() async throws {
        let key = "sk-test-SECRET-0123456789"
        let dotEnvSecret = "proxy-credential-9876543210"
        // The model quotes both, each split across deltas.
        let model = try FakeHTTPServer { _ in
            FakeOpenAI.stream(["{\"title\": \"key sk-test-SEC", "RET-0123456789 and proxy-cred", "ential-9876543210\"}"])
        }
        defer { model.stop() }
        let project = try Project()
        defer { project.remove() }
        try "MY_PROXY_AUTH=\(dotEnvSecret)\n".write(to: project.root.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
        let server = try await ServeProcess(
            home: project.home, offline: false, plans: TestPaths.fixturePlans,
            environment: ["OPENAI_API_KEY": key, "OPENAI_BASE_URL": model.baseURL + "/v1", "SLUICE_MODEL": "openai:gpt-4o-mini"],
            directory: project.root)
        defer { server.terminate() }
        let (head, reader, _) = try await HTTP.sse(server.port, "POST", "/v1/plans/ask/runs", json: ["auto_confirm": true])
        #expect(head.status == 200)
        let stream = await HTTP.drain(reader).map { "\($0.event ?? "message") \($0.data)" }.joined(separator: "\n")
        #expect(stream.contains("final_result"), "\(stream)")
        #expect(stream.contains("[redacted]"))
        let runID = try #require(head.headers["x-run-id"])
        let summary = try await HTTP.request(server.port, "GET", "/v1/runs/\(runID)").text
        await server.stop()
        var stored = ""
        for name in (try? FileManager.default.contentsOfDirectory(atPath: project.home)) ?? [] {
            if let data = FileManager.default.contents(atPath: project.home + "/" + name) { stored += String(decoding: data, as: UTF8.self) }
        }
        #expect(stored.contains(runID), "the run was not stored")
        for secret in [key, dotEnvSecret] {
            #expect(!stream.contains(secret))
            #expect(!summary.contains(secret))
            #expect(!stored.contains(secret), "the store holds \(secret)")
        }
    }
}
