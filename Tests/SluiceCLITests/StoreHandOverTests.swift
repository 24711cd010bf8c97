import Foundation
import Testing

/// `sluice run` closes its SQLite store with every run checkpointed into `runs.sqlite` and a
/// write-ahead log of two frames kept beside it, so the next start appends to the log instead
/// of creating it (which SQLite syncs, with its folder, before the first commit).
@Suite struct StoreHandOverTests {
    static let arguments = ["--offline", "--events", "ndjson"]

    static func size(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int
    }

    @Test func aRunLeavesItsDataInTheDatabaseFileAndAShortLogForTheNextStart() async throws {
        let home = DurableHome()
        let copy = DurableHome()
        let plan = try ScratchPlan(ScratchPlan.opaqueResult, name: "opaque_result")
        defer {
            home.remove()
            copy.remove()
            try? FileManager.default.removeItem(at: plan.folder)
        }
        var runIDs: [String] = []
        for _ in 0..<3 {
            let run = try await CLIProcess.run(["run", plan.path] + Self.arguments, environment: home.environment)
            #expect(run.status == 0, "\(run.stderr)")
            runIDs.append(try #require(Events(ndjson: run.stdout).all.first?["run_id"] as? String))
            // The log is kept, cut to a throwaway transaction: a header and a couple of pages.
            let log = try #require(Self.size(home.path + "/runs.sqlite-wal"), "no write-ahead log kept")
            #expect(log > 0 && log < 4 * 4_200, "log of \(log) bytes")
        }
        // Each run appended to the log the one before left: all three are there.
        let listed = try await CLIProcess.run(["runs", "list", "--json"], environment: home.environment)
        for id in runIDs { #expect(listed.stdout.contains(id), "\(listed.stdout)") }

        // runs.sqlite alone holds every run, whole: nothing is left only in the log.
        try FileManager.default.createDirectory(atPath: copy.path, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: home.path + "/runs.sqlite", toPath: copy.path + "/runs.sqlite")
        for id in runIDs {
            let events = try await CLIProcess.run(["runs", "events", id], environment: copy.environment)
            #expect(events.status == 0, "\(events.stderr)")
            #expect(Events(ndjson: events.stdout).types.last == "run.completed")
        }
    }
}
