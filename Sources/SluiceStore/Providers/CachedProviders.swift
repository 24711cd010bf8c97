public import Foundation
import SluiceJSON
public import SluiceProviders
import Synchronization

/// `sluice run --cache`: answers identical model and search requests from a ``ResponseCache``
/// (the plan author's fast loop). A model hit streams the saved text as one delta and spends no
/// tokens; `model.usage` says `cache: hit` or `cache: miss`, and a search step's
/// `step.completed` counts its queries' hits and misses (``SearchCacheTally``).
public final class ResponseCaching: Sendable {
    public let cache: any ResponseCache
    /// How long an entry answers; nil for until `sluice cache clear`.
    public let timeToLive: TimeInterval?
    private let now: @Sendable () -> Date
    private let counts = Mutex((hits: 0, misses: 0))

    public init(cache: any ResponseCache, timeToLive: TimeInterval?, now: @escaping @Sendable () -> Date = { Date() }) {
        self.cache = cache
        self.timeToLive = timeToLive
        self.now = now
    }

    public var hits: Int { counts.withLock { $0.hits } }
    public var misses: Int { counts.withLock { $0.misses } }

    public func model(_ base: any ModelProvider) -> any ModelProvider { CachedModel(base: base, caching: self) }
    public func search(_ base: any SearchProvider) -> any SearchProvider { CachedSearch(base: base, caching: self) }

    func lookup(_ kind: ProviderCall.Kind, _ request: String) async throws(StoreError) -> JSONValue? {
        let found = try await cache.cachedResponse(kind: kind, request: request, now: now())
        counts.withLock { counts in
            if found == nil { counts.misses += 1 } else { counts.hits += 1 }
        }
        return found
    }

    func store(_ kind: ProviderCall.Kind, _ request: String, _ response: JSONValue) async throws(StoreError) {
        try await cache.storeResponse(kind: kind, request: request, response: response, expiresAt: timeToLive.map { now().addingTimeInterval($0) })
    }
}

private struct CachedModel: ModelProvider {
    let base: any ModelProvider
    let caching: ResponseCaching

    func generate(_ request: ModelRequest, onDelta: @Sendable (String) async throws -> Void) async throws -> ModelResponse {
        let key = ProviderCodec.key(request, includingPlace: false)
        if let found = try await caching.lookup(.model, key), let response = ProviderCodec.decodeModel(found) {
            if request.stream, !response.text.isEmpty { try await onDelta(response.text) }
            return ProviderCodec.free(response, cache: "hit")
        }
        // Calls the provider tells of are marked as misses as they happen.
        var asked = request
        asked.onCall = { [report = request.onCall] call in
            var call = call
            call.cache = "miss"
            report?(call)
        }
        var response = try await base.generate(asked, onDelta: onDelta)
        try await caching.store(.model, key, ProviderCodec.encode(response))
        response.cache = "miss"
        return response
    }
}

private struct CachedSearch: SearchProvider {
    let base: any SearchProvider
    let caching: ResponseCaching

    func search(_ query: SearchQuery) async throws -> [SearchResult] {
        let key = ProviderCodec.key(query)
        if let found = try await caching.lookup(.search, key), let results = ProviderCodec.decodeSearch(found) {
            query.cacheTally?.record(hit: true)
            return results
        }
        query.cacheTally?.record(hit: false)
        let results = try await base.search(query)
        try await caching.store(.search, key, ProviderCodec.encode(results))
        return results
    }
}
