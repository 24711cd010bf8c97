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
}
