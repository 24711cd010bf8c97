import Foundation
import Testing

/// A plan's `"cache"` setting turns on the response cache for `sluice run`; `--no-cache`
/// overrides it.
@Suite struct PlanCacheSettingTests {
    /// A small offline plan that asks for the cache itself.
    static func writePlan(in home: DurableHome) throws -> String {
        try FileManager.default.createDirectory(atPath: home.path, withIntermediateDirectories: true)
        let path = home.path + "/cached_note.json"
        let plan = #"""
            {"name": "cached_note", "cache": {"ttl": "12h"},
             "steps": [{"id": "find", "kind": "search", "query": "AI agents"},
                       {"id": "write", "kind": "llm", "prompt": "Write one line about AI agents."}]}
            """#
        try Data(plan.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func stepCompleted(_ events: Events, step: String) -> [String: Any]? {
        events.all.first { $0["type"] as? String == "step.completed" && $0["step"] as? String == step }?["data"] as? [String: Any]
    }

    @Test func aPlanWithTheCacheSettingHitsOnItsSecondRunUnlessNoCache() async throws {
        let home = DurableHome()
        defer { home.remove() }
        let arguments = ["run", try Self.writePlan(in: home), "--offline", "--events", "ndjson"]

        let first = try await CLIProcess.run(arguments, environment: home.environment)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains(#""cache":"miss""#))
        let firstSearch = Self.stepCompleted(Events(ndjson: first.stdout), step: "find")?["cache"] as? [String: Int]
        #expect(firstSearch == ["hits": 0, "misses": 1])

        let second = try await CLIProcess.run(arguments, environment: home.environment)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(Events(ndjson: second.stdout).paidModelCalls.isEmpty)
        #expect(second.stdout.contains(#""cache":"hit""#))
        let secondSearch = Self.stepCompleted(Events(ndjson: second.stdout), step: "find")?["cache"] as? [String: Int]
        #expect(secondSearch == ["hits": 1, "misses": 0])
        #expect(second.stderr.contains("cache: 2 hit(s), 0 miss(es)"))

        let uncached = try await CLIProcess.run(arguments + ["--no-cache"], environment: home.environment)
        #expect(uncached.status == 0, "\(uncached.stderr)")
        #expect(Events(ndjson: uncached.stdout).paidModelCalls.count == 1)
        #expect(Self.stepCompleted(Events(ndjson: uncached.stdout), step: "find")?["cache"] == nil)

        let both = try await CLIProcess.run(arguments + ["--cache", "--no-cache"], environment: home.environment)
        #expect(both.status == 2)
        #expect(both.stderr.contains("--no-cache"))
    }

    @Test func withoutTheStoreThePlansSettingIsDroppedWithANote() async throws {
        let home = DurableHome()
        defer { home.remove() }
        let run = try await CLIProcess.run(["run", try Self.writePlan(in: home), "--offline", "--events", "ndjson", "--no-store"], environment: home.environment)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("cache setting is not used with --no-store"))
        #expect(!run.stdout.contains(#""cache":"#))
    }

    @Test func serveChecksItsCacheOptionsBeforeServing() async throws {
        let home = DurableHome()
        defer { home.remove() }
        for arguments in [["--cache-ttl", "1h"], ["--cache", "--no-store"], ["--cache", "--cache-ttl", "soon"]] {
            let serve = try await CLIProcess.run(["serve", "--offline", "--port", "0"] + arguments, environment: home.environment)
            #expect(serve.status == 2, "sluice serve \(arguments)")
        }
    }
}
