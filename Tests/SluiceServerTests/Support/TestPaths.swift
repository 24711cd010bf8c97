import Foundation

/// Where the tests find the repository's files and the built `sluice`.
enum TestPaths {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixturePlans = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/plans").path
    static let shippedPlans = repository.appendingPathComponent("plans").path
    static let corpus = repository.appendingPathComponent("corpus").path

    /// The `sluice` binary built beside the test bundle.
    static var executable: URL {
        get throws {
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
}
