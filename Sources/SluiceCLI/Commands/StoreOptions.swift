import ArgumentParser
import Foundation
import SluiceStore
import SluiceStorePostgres

/// `--store URL` (else `SLUICE_STORE`): where runs are kept. Unset, the embedded SQLite store
/// in `SLUICE_HOME`; a `postgres://` URL, the shared PostgreSQL store.
struct StoreOptions: ParsableArguments {
    @Option(
        name: .customLong("store"),
        help: "Where runs are kept: postgres://user[:password]@host[:port]/database (default: $SLUICE_STORE, else SQLite in $SLUICE_HOME).")
    var url: String?

    /// The URL asked for, from the option or the environment (an empty variable counts as unset).
    func resolved(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let url { return url }
        guard let variable = environment["SLUICE_STORE"], !variable.isEmpty else { return nil }
        return variable
    }

    /// How long a run on the PostgreSQL store stays owned without a heartbeat from its
    /// process: `SLUICE_STORE_LEASE` (`30s`, `2m`; at least 1 s), else 30 seconds.
    func leaseTimeout(environment: [String: String] = ProcessInfo.processInfo.environment) throws(StoreError) -> TimeInterval {
        guard let text = environment["SLUICE_STORE_LEASE"], !text.isEmpty else { return 30 }
        let seconds: TimeInterval
        do {
            seconds = try DurationText.seconds(text, option: "SLUICE_STORE_LEASE")
        } catch {
            throw StoreError(.invalidData, error.lines.joined(separator: " "))
        }
        guard seconds >= 1 else { throw StoreError(.invalidData, "SLUICE_STORE_LEASE '\(text)': a lease must last at least 1s") }
        return seconds
    }

    /// Opens the store, with what its backend offers. Never falls back to SQLite when a PostgreSQL store was asked for.
    ///
    /// - Throws: ``StoreError``: `invalidData` for a value that is not a PostgreSQL URL,
    ///   `unavailable` for a server that cannot be reached, the SQLite store's errors otherwise.
    func open(environment: [String: String] = ProcessInfo.processInfo.environment) async throws(StoreError) -> OpenedStore {
        try await openForProcess(environment: environment).store
    }

    /// ``open(environment:)``, with what to call once the process is done with the store: the
    /// SQLite store's ``SluiceStore/SQLiteRunStore/closeForNextStart()`` (nil for PostgreSQL).
    func openForProcess(environment: [String: String]) async throws(StoreError) -> (store: OpenedStore, close: (@Sendable () -> Void)?) {
        guard let url = resolved(environment: environment) else {
            let store = try SQLiteRunStore(home: SluiceHome.resolve(environment: environment))
            return (OpenedStore(store), { store.closeForNextStart() })
        }
        let origin = self.url == nil ? "SLUICE_STORE" : "--store"
        guard PostgresRunStore.isPostgresURL(url) else {
            throw StoreError(
                .invalidData,
                "\(origin) '\(PostgresRunStore.redactedURL(url))' is not a PostgreSQL URL: expected postgres://user[:password]@host[:port]/database (leave it unset for the SQLite store in $SLUICE_HOME)")
        }
        let lease = try leaseTimeout(environment: environment)
        do {
            return (OpenedStore(try await PostgresRunStore.open(url: url, leaseTimeout: lease)), nil)
        } catch {
            throw StoreError(error.code, "\(origin): \(error.message)")
        }
    }
}
