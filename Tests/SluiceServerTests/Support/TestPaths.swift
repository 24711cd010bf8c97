import Foundation
import SluiceTesting

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
        get throws { try BuiltExecutable.sluice(repository: repository) }
    }
}
