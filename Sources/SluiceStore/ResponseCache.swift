public import Foundation
public import SluiceJSON

/// Responses of providers kept across runs, for `sluice run --cache`: an identical request
/// (same kind and canonical request text) is answered from here until its entry expires.
public protocol ResponseCache: Sendable {
    /// The response stored for `request`, unless it expired before `now`.
    func cachedResponse(kind: ProviderCall.Kind, request: String, now: Date) async throws(StoreError) -> JSONValue?
    /// Stores (or replaces) the response for `request`; nil `expiresAt` keeps it until cleared.
    func storeResponse(kind: ProviderCall.Kind, request: String, response: JSONValue, expiresAt: Date?) async throws(StoreError)
    /// Forgets every cached response; returns how many there were.
    func clearCache() async throws(StoreError) -> Int
}
