import Foundation

/// Replaces every known secret (API keys) in a text with `[redacted]`.
///
/// Services sometimes echo what they were sent (a key in a query string, a header in an error
/// page); every message a provider builds from a response goes through this before it can
/// reach an error, a log, an event or a stored run.
public struct SecretRedactor: Sendable, Hashable {
    private var secrets: [String]

    /// - Parameter secrets: the values to hide; values shorter than 4 characters are ignored
    ///   (hiding every "a" would ruin messages and protect nothing).
    public init(secrets: [String]) {
        self.secrets = Array(Set(secrets.filter { $0.count >= 4 })).sorted { $0.count > $1.count }
    }

    public static let none = SecretRedactor(secrets: [])

    var secretCount: Int { secrets.count }
    /// The length of the longest secret, 0 without any.
    var longestSecret: Int { secrets.first?.count ?? 0 }

    public func redact(_ text: String) -> String {
        var result = text
        for secret in secrets where result.contains(secret) {
            result = result.replacingOccurrences(of: secret, with: "[redacted]")
        }
        return result
    }
}
