import Foundation

/// Tries search providers in order: the first that answers wins; a provider that fails (after
/// its own retries) hands over to the next. Fails only when all fail, naming each failure.
public struct FallbackSearch: SearchProvider {
    public let providers: [any SearchProvider]

    public init(_ providers: [any SearchProvider]) {
        self.providers = providers
    }

    public func search(_ query: SearchQuery) async throws -> [SearchResult] {
        var failures: [ProviderError] = []
        for provider in providers {
            do {
                return try await provider.search(query)
            } catch let error as ProviderError {
                failures.append(error)
            }
        }
        guard failures.count > 1, let last = failures.last else {
            throw failures.first ?? ProviderError(.notConfigured, "no search provider to try", provider: "search")
        }
        throw ProviderError(last.code, "every search provider failed: " + failures.map(\.description).joined(separator: "; "), provider: "search")
    }
}

/// Keeps the first result for each URL across several searches.
///
/// URLs are compared without their fragment, a trailing slash, `www.`, the scheme and common
/// tracking parameters (`utm_*`, `fbclid`, `gclid`), so one article found by two queries (or
/// two providers) is kept once.
public struct SearchResultDeduplicator: Sendable {
    private var seen: Set<String> = []

    public init() {}

    /// The results not seen before, in order.
    public mutating func add(_ results: [SearchResult]) -> [SearchResult] {
        results.filter { seen.insert(Self.key(for: $0.url)).inserted }
    }

    public static func deduplicated(_ results: [SearchResult]) -> [SearchResult] {
        var deduplicator = SearchResultDeduplicator()
        return deduplicator.add(results)
    }

    static func key(for url: String) -> String {
        guard var components = URLComponents(string: url.trimmingCharacters(in: .whitespaces)) else { return url }
        components.fragment = nil
        components.scheme = nil
        components.host = components.host.map { host in
            let lowered = host.lowercased()
            return lowered.hasPrefix("www.") ? String(lowered.dropFirst(4)) : lowered
        }
        let kept = components.queryItems?.filter { item in
            !(item.name.hasPrefix("utm_") || item.name == "fbclid" || item.name == "gclid")
        }
        components.queryItems = kept?.isEmpty == true ? nil : kept
        var key = components.string ?? url
        while key.hasSuffix("/") { key.removeLast() }
        return key
    }
}
