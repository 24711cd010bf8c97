public import Foundation
import GRDB
public import SluiceJSON

/// The response cache of `sluice run --cache`.
extension SQLiteRunStore {
    public func cachedResponse(kind: ProviderCall.Kind, request: String, now: Date) async throws(StoreError) -> JSONValue? {
        let hash = ContentHash.hex(of: request)
        let text = try await read("read the response cache") { db in
            try String.fetchOne(
                db,
                sql: """
                    SELECT response FROM response_cache
                    WHERE kind = ? AND request_hash = ? AND request = ? AND (expires_at IS NULL OR expires_at > ?)
                    """,
                arguments: [kind.rawValue, hash, request, now.timeIntervalSince1970])
        }
        do {
            return try text.flatMap { text throws(StoreError) in
                do { return try Self.decodeJSON(text, what: "cached \(kind.rawValue) response") } catch let error as StoreError { throw error } catch {
                    throw StoreError(.invalidData, "\(error)")
                }
            }
        }
    }

    public func storeResponse(kind: ProviderCall.Kind, request: String, response: JSONValue, expiresAt: Date?) async throws(StoreError) {
        let text = response.serialized()
        let hash = ContentHash.hex(of: request)
        try await write("write the response cache") { db in
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO response_cache (kind, request_hash, request, response, created_at, expires_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [kind.rawValue, hash, request, text, Date().timeIntervalSince1970, expiresAt?.timeIntervalSince1970])
        }
    }

    public func clearCache() async throws(StoreError) -> Int {
        try await write("clear the response cache") { db in
            try db.execute(sql: "DELETE FROM response_cache")
            return db.changesCount
        }
    }
}
