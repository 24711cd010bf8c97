import Foundation

/// Paths of the test fixtures and the repository, found from this file's location.
enum Fixtures {
    static let testsFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let repository = testsFolder.deletingLastPathComponent().deletingLastPathComponent()
    static let broken = testsFolder.appendingPathComponent("Fixtures/broken")
    static let valid = testsFolder.appendingPathComponent("Fixtures/valid")
    static let plans = repository.appendingPathComponent("plans")

    /// The `.json` files of a folder, sorted, as paths.
    static func jsonFiles(in folder: URL) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".json") && $0 != "expected.json" }.sorted()
            .map { folder.appendingPathComponent($0).path }
    }

    /// Re-record golden files instead of comparing with them (`SLUICE_RECORD=1 swift test`).
    static var recording: Bool { ProcessInfo.processInfo.environment["SLUICE_RECORD"] == "1" }
}
