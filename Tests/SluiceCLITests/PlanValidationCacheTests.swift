import Foundation
import Testing

/// `sluice run` remembers the plans this binary found valid (`$SLUICE_HOME/plan-cache`, one
/// entry per plan file: the binary's build id and the plan's bytes) and skips their byte-only
/// checks on the next start; anything but an exact match is checked in full.
@Suite struct PlanValidationCacheTests {
    static let plan = """
        {
          "name": "cached_validation",
          "inputs": {"type": "object", "properties": {"topic": {"type": "string", "default": "agents"}}},
          "steps": [{"id": "facts", "kind": "set", "value": {"topic": "${inputs.topic}"}}],
          "output": {"value": "${steps.facts.output}"}
        }
        """

    /// Plans a cache entry must never let through, with what `sluice run` says about each.
    static let invalidPlans: [(text: String, diagnostic: String)] = [
        (plan.replacingOccurrences(of: #""kind": "set""#, with: #""kind": "set", "temprature": 1"#), "unknown field 'temprature'"),
        (plan.replacingOccurrences(of: "steps.facts.output", with: "steps.fcts.output"), "fcts"),
        (plan.replacingOccurrences(of: #""default": "agents""#, with: #""default": 7"#), "default"),
    ]

    /// One home and one plan file; the cache's single entry once a run has written it.
    struct Setup {
        let home = DurableHome()
        let plan: ScratchPlan
        var cacheFolder: String { home.path + "/plan-cache" }

        init() throws {
            plan = try ScratchPlan(PlanValidationCacheTests.plan, name: "cached_validation")
        }

        func run(_ command: String = "run") async throws -> CLIProcess.Result {
            let arguments = command == "run" ? ["run", plan.path, "--offline", "--events", "ndjson"] : [command, plan.path]
            return try await CLIProcess.run(arguments, environment: home.environment)
        }

        func entries() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: cacheFolder)) ?? []).filter { !$0.hasPrefix(".") }
        }

        func entryPath() throws -> String {
            let names = entries()
            try #require(names.count == 1, "entries: \(names)")
            return cacheFolder + "/" + names[0]
        }

        func writePlan(_ text: String) throws {
            try Data(text.utf8).write(to: URL(fileURLWithPath: plan.path))
        }

        func remove() {
            home.remove()
            try? FileManager.default.removeItem(at: plan.folder)
        }
    }

    static func contents(_ path: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: path))
    }

    @Test func aValidPlanIsRememberedAndItsSecondStartIsAHit() async throws {
        let setup = try Setup()
        defer { setup.remove() }
        let first = try await setup.run()
        #expect(first.status == 0, "\(first.stderr)")
        let entry = try setup.entryPath()
        let stored = try Self.contents(entry)
        #expect(stored.starts(with: Data("sluice validated plan 1\n".utf8)))
        #expect(stored.suffix(Self.plan.utf8.count) == Data(Self.plan.utf8))

        // A hit leaves the entry as it was; a miss would write it again.
        let old = Date(timeIntervalSince1970: 1_000_000_000)
        try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: entry)
        let second = try await setup.run()
        #expect(second.status == 0, "\(second.stderr)")
        #expect(Events(ndjson: second.stdout).types == Events(ndjson: first.stdout).types)
        let modified = try FileManager.default.attributesOfItem(atPath: entry)[.modificationDate] as? Date
        #expect(modified == old)
        #expect(try Self.contents(entry) == stored)
    }

    @Test func anEditedPlanIsAMissAndItsNewBytesAreRemembered() async throws {
        let setup = try Setup()
        defer { setup.remove() }
        #expect(try await setup.run().status == 0)
        let edited = Self.plan.replacingOccurrences(of: #""agents""#, with: #""markets""#)
        try setup.writePlan(edited)
        let run = try await setup.run()
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("markets"))
        #expect(try Self.contents(setup.entryPath()).suffix(edited.utf8.count) == Data(edited.utf8))
    }

    @Test(arguments: invalidPlans)
    func aPlanMadeInvalidAfterItWasRememberedIsRefused(invalid: String, diagnostic: String) async throws {
        let setup = try Setup()
        defer { setup.remove() }
        #expect(try await setup.run().status == 0)
        let entry = try setup.entryPath()
        let remembered = try Self.contents(entry)
        try setup.writePlan(invalid)
        let run = try await setup.run()
        #expect(run.status == 2)
        #expect(run.stderr.contains(diagnostic), "\(run.stderr)")
        #expect(run.stdout.isEmpty)
        // Never remembered: the entry still holds the valid bytes.
        #expect(try Self.contents(entry) == remembered)
    }

    @Test(arguments: invalidPlans)
    func anInvalidPlanIsNeverRemembered(invalid: String, diagnostic: String) async throws {
        let setup = try Setup()
        defer { setup.remove() }
        try setup.writePlan(invalid)
        for _ in 0..<2 {
            let run = try await setup.run()
            #expect(run.status == 2)
            #expect(run.stderr.contains(diagnostic), "\(run.stderr)")
        }
        #expect(setup.entries().isEmpty)
    }

    /// Damaged entries: ignored (the plan is checked in full) and written again.
    static let corruptions: [(name: String, damage: @Sendable (Data) -> Data)] = [
        ("empty", { _ in Data() }),
        ("garbage", { _ in Data((0..<300).map { UInt8(truncatingIfNeeded: $0 &* 37) }) }),
        ("truncated", { $0.dropLast(10) }),
        ("extra bytes", { $0 + Data(" ".utf8) }),
        ("one byte of the plan flipped", { entry in
            var damaged = entry
            damaged[damaged.count - 5] ^= 0x01
            return damaged
        }),
    ]

    @Test(arguments: corruptions.map(\.name))
    func aCorruptEntryIsIgnoredAndRewritten(corruption: String) async throws {
        let damage = try #require(Self.corruptions.first { $0.name == corruption }).damage
        let setup = try Setup()
        defer { setup.remove() }
        #expect(try await setup.run().status == 0)
        let entry = try setup.entryPath()
        let good = try Self.contents(entry)
        try damage(good).write(to: URL(fileURLWithPath: entry))
        let run = try await setup.run()
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try Self.contents(entry) == good)
    }

    /// An entry written by another binary (another build id) is a miss: rewritten for this one,
    /// and never trusted for bytes this binary has not checked.
    @Test func anEntryOfAnotherBinaryIsAMiss() async throws {
        let setup = try Setup()
        defer { setup.remove() }
        #expect(try await setup.run().status == 0)
        let entry = try setup.entryPath()
        let good = try Self.contents(entry)
        let lines = String(decoding: good, as: UTF8.self).split(separator: "\n", maxSplits: 2, omittingEmptySubsequences: false)
        try #require(lines.count == 3)
        let otherBuild = String(repeating: "0", count: lines[1].count)
        #expect(lines[1] != Substring(otherBuild))
        let header = "\(lines[0])\n\(otherBuild)\n"

        try Data((header + Self.plan).utf8).write(to: URL(fileURLWithPath: entry))
        let valid = try await setup.run()
        #expect(valid.status == 0, "\(valid.stderr)")
        #expect(try Self.contents(entry) == good)

        let (invalid, diagnostic) = Self.invalidPlans[0]
        try setup.writePlan(invalid)
        try Data((header + invalid).utf8).write(to: URL(fileURLWithPath: entry))
        let refused = try await setup.run()
        #expect(refused.status == 2)
        #expect(refused.stderr.contains(diagnostic), "\(refused.stderr)")
    }

    /// `sluice validate` is the full check, whatever the cache holds (even an entry of this
    /// binary for the very bytes), and writes no entry.
    @Test func validateChecksInFullAndRemembersNothing() async throws {
        let setup = try Setup()
        defer { setup.remove() }
        let validate = try await setup.run("validate")
        #expect(validate.status == 0, "\(validate.stderr)")
        #expect(setup.entries().isEmpty)

        #expect(try await setup.run().status == 0)
        let entry = try setup.entryPath()
        let header = try Self.contents(entry).dropLast(Self.plan.utf8.count)
        let (invalid, diagnostic) = Self.invalidPlans[0]
        try setup.writePlan(invalid)
        try (header + Data(invalid.utf8)).write(to: URL(fileURLWithPath: entry))
        let refused = try await setup.run("validate")
        #expect(refused.status == 2)
        #expect(refused.stderr.contains(diagnostic), "\(refused.stderr)")
    }

    @Test func noStoreWritesNoEntry() async throws {
        let setup = try Setup()
        defer { setup.remove() }
        let noStore = try await CLIProcess.run(
            ["run", setup.plan.path, "--offline", "--events", "ndjson", "--no-store"], environment: setup.home.environment)
        #expect(noStore.status == 0, "\(noStore.stderr)")
        #expect(setup.entries().isEmpty)
    }
}
