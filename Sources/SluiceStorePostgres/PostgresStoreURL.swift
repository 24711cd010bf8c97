import Foundation
import PostgresNIO
import SluiceStore

/// A `--store` / `SLUICE_STORE` URL: `postgres://user[:password]@host[:port]/database`, with an
/// optional `?sslmode=disable|prefer|require` (default `prefer`: TLS when the server offers it).
///
/// Every message names the URL without its password (``redacted``).
struct PostgresStoreURL: Sendable {
    var host: String
    var port: Int
    var user: String
    var password: String?
    var database: String
    var sslMode: String

    /// Whether `text` is meant as a PostgreSQL URL (so a wrong one is an error, not a path).
    static func isPostgres(_ text: String) -> Bool {
        let lower = text.lowercased()
        return lower.hasPrefix("postgres://") || lower.hasPrefix("postgresql://")
    }

    /// - Throws: ``StoreError`` `invalidData` saying what is wrong with the URL.
    init(_ text: String) throws(StoreError) {
        guard Self.isPostgres(text), let components = URLComponents(string: text) else {
            throw StoreError(.invalidData, "'\(Self.redact(text))' is not a PostgreSQL URL (expected postgres://user[:password]@host[:port]/database)")
        }
        let shown = Self.redact(text)
        guard let host = components.host, !host.isEmpty else {
            throw StoreError(.invalidData, "the store URL \(shown) has no host (expected postgres://user@host:5432/database)")
        }
        guard let user = components.user, !user.isEmpty else {
            throw StoreError(.invalidData, "the store URL \(shown) has no user (expected postgres://user@host:5432/database)")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else {
            throw StoreError(.invalidData, "the store URL \(shown) names no database (expected postgres://user@host:5432/database)")
        }
        var sslMode = "prefer"
        for item in components.queryItems ?? [] {
            guard item.name == "sslmode", let value = item.value, ["disable", "prefer", "require"].contains(value) else {
                throw StoreError(.invalidData, "the store URL \(shown) has an unsupported parameter '\(item.name)=\(item.value ?? "")' (only sslmode=disable|prefer|require)")
            }
            sslMode = value
        }
        self.host = host
        port = components.port ?? 5432
        self.user = user.removingPercentEncoding ?? user
        password = components.password.map { $0.removingPercentEncoding ?? $0 }
        self.database = database.removingPercentEncoding ?? database
        self.sslMode = sslMode
    }

    /// The URL as people may see it: the password replaced by `***`.
    var redacted: String {
        "postgres://\(user)\(password == nil ? "" : ":***")@\(host.contains(":") ? "[\(host)]" : host):\(port)/\(database)"
    }

    /// `text` with any password between `://user:` and `@` masked, for URLs that did not parse.
    static func redact(_ text: String) -> String {
        guard let scheme = text.range(of: "://"), let at = text[scheme.upperBound...].lastIndex(of: "@"),
            let colon = text[scheme.upperBound..<at].firstIndex(of: ":")
        else { return text }
        return String(text[..<text.index(after: colon)]) + "***" + String(text[at...])
    }

    /// - Throws: when TLS cannot be set up (the system's certificates cannot be read).
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS =
            switch sslMode {
            case "disable": .disable
            case "require": .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            default: .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
        var configuration = PostgresConnection.Configuration(host: host, port: port, username: user, password: password, database: database, tls: tls)
        configuration.options.connectTimeout = .seconds(10)
        return configuration
    }

    func clientConfiguration(maximumConnections: Int) -> PostgresClient.Configuration {
        let clientTLS: PostgresClient.Configuration.TLS =
            switch sslMode {
            case "disable": .disable
            case "require": .require(.makeClientConfiguration())
            default: .prefer(.makeClientConfiguration())
            }
        var configuration = PostgresClient.Configuration(host: host, port: port, username: user, password: password, database: database, tls: clientTLS)
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(10)
        return configuration
    }
}

extension PostgresRunStore {
    /// Whether `text` is meant as a PostgreSQL store URL (`postgres://` or `postgresql://`).
    public static func isPostgresURL(_ text: String) -> Bool { PostgresStoreURL.isPostgres(text) }

    /// `text` with its password masked, for messages.
    public static func redactedURL(_ text: String) -> String { PostgresStoreURL.redact(text) }
}
