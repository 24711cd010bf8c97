import Foundation

/// Paths inside the repository, found from this file's location (tests run from anywhere).
enum RepositoryPaths {
    static var root: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }
    static var corpus: String { root + "/corpus" }
    static var prices: String { root + "/config/prices.json" }
}
