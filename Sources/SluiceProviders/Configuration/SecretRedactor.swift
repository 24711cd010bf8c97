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
        // Nearly every text holds no secret: look over the UTF-8 bytes first (no Foundation
        // bridging), and only build a new string when one is there.
        guard secrets.contains(where: { Self.occurs($0, in: text) }) else { return text }
        var result = text
        for secret in secrets where result.contains(secret) {
            result = result.replacingOccurrences(of: secret, with: "[redacted]")
        }
        return result
    }

    private static func occurs(_ secret: String, in text: String) -> Bool {
        var text = text
        var secret = secret
        return text.withUTF8 { haystack in
            secret.withUTF8 { needle in
                guard let first = needle.first, needle.count <= haystack.count else { return false }
                var index = 0
                let last = haystack.count - needle.count
                while index <= last {
                    if haystack[index] == first, needle.indices.allSatisfy({ haystack[index + $0] == needle[$0] }) { return true }
                    index += 1
                }
                return false
            }
        }
    }
}
