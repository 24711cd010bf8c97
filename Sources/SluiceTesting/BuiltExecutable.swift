public import Foundation

/// The `sluice` binary that `swift build` put beside the running test bundle, for tests that
/// drive the command line (CLI exit codes, `sluice serve --stdio`).
public enum BuiltExecutable {
    /// The `sluice` executable: searched upward from the test bundle, else `.build/debug/sluice`
    /// under `repository`.
    /// - Throws: `CocoaError(.fileNoSuchFile)` naming the path looked for last.
    public static func sluice(repository: URL) throws -> URL {
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = folder.appendingPathComponent("sluice")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            folder = folder.deletingLastPathComponent()
        }
        let fallback = repository.appendingPathComponent(".build/debug/sluice")
        guard FileManager.default.isExecutableFile(atPath: fallback.path) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: fallback.path])
        }
        return fallback
    }

    /// The environment a test's `sluice` sees: none of the developer's keys and settings, plus
    /// `extra`, and (unless `extra` names one) a fresh `SLUICE_HOME`, so runs are not recorded
    /// in the repository's own `.sluice`. Returns that scratch folder for the caller to remove.
    public static func testEnvironment(_ extra: [String: String] = [:]) -> (environment: [String: String], scratchHome: URL?) {
        var environment = ProcessInfo.processInfo.environment.filter { name, _ in
            !name.hasPrefix("SLUICE_") && !name.hasSuffix("_API_KEY") && !name.hasSuffix("_BASE_URL")
                && !name.hasPrefix("OTEL_") && name != "TRACEPARENT"
                && !["GOOGLE_CSE_ID", "SEARXNG_URL", "NO_COLOR"].contains(name)
        }
        environment.merge(extra) { $1 }
        guard environment["SLUICE_HOME"] == nil else { return (environment, nil) }
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-home-\(UUID().uuidString)")
        environment["SLUICE_HOME"] = home.path
        return (environment, home)
    }
}
