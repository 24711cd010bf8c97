import Foundation

/// The API keys of `SLUICE_API_KEYS` (`key1:alice,key2:bob`): each key names its user.
public struct APIKeys: Sendable {
    public private(set) var entries: [(key: [UInt8], user: String)]

    public init(_ entries: [(key: String, user: String)]) {
        self.entries = entries.map { (Array($0.key.utf8), $0.user) }
    }

    /// Parses `key1:alice,key2:bob`.
    ///
    /// - Throws: ``Invalid`` naming the malformed entry.
    public init(parsing text: String) throws(Invalid) {
        var entries: [(key: String, user: String)] = []
        for part in text.split(separator: ",") {
            let entry = part.trimmingCharacters(in: .whitespaces)
            guard !entry.isEmpty else { continue }
            guard let colon = entry.lastIndex(of: ":") else { throw Invalid(entry: entry) }
            let key = String(entry[..<colon])
            let user = String(entry[entry.index(after: colon)...])
            guard !key.isEmpty, !user.isEmpty else { throw Invalid(entry: entry) }
            entries.append((key, user))
        }
        self.init(entries)
    }

    public struct Invalid: Error, CustomStringConvertible {
        public var entry: String
        public var description: String {
            "SLUICE_API_KEYS: '\(entry.prefix(4))…' is not of the form key:user (entries are separated by commas)"
        }
    }

    public var isEmpty: Bool { entries.isEmpty }

    /// The user of `candidate`, comparing against every key in constant time.
    public func user(for candidate: String) -> String? {
        let bytes = Array(candidate.utf8)
        var found: String?
        for entry in entries where Self.constantTimeEqual(entry.key, bytes) {
            found = entry.user
        }
        return found
    }

    /// Equality whose time depends only on the lengths, not on where the bytes differ.
    static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: lhs.count ^ rhs.count)
        let length = max(lhs.count, rhs.count)
        for index in 0..<length {
            let left = index < lhs.count ? lhs[index] : 0
            let right = index < rhs.count ? rhs[index] : 0
            difference |= left ^ right
        }
        return difference == 0 && lhs.count == rhs.count
    }
}

/// Which `Host` names the server answers to: the loopback names, the address it is bound to
/// (unless that is a wildcard) and any allowed with `--allow-host`. A web page that rebinds its
/// own domain to 127.0.0.1 still sends its domain as `Host`, so it gets 403 (DNS rebinding).
public struct HostPolicy: Sendable {
    public static let loopbackNames: Set<String> = ["localhost", "127.0.0.1", "[::1]"]
    /// Lowercased host names, without port; IPv6 addresses in brackets.
    public private(set) var allowed: Set<String>

    /// - Parameters:
    ///   - boundHost: the address the server listens on; `0.0.0.0` and `::` add nothing.
    ///   - allowed: further names, e.g. `sluice.internal` or `sluice.internal:8000` (the port is ignored).
    public init(boundHost: String = "127.0.0.1", allowed: [String] = []) {
        var names = Self.loopbackNames
        for name in [boundHost] + allowed {
            let host = Self.hostName(of: name.contains(":") && !name.hasPrefix("[") && name.split(separator: ":").count > 2 ? "[\(name)]" : name)
            if !host.isEmpty, host != "0.0.0.0", host != "[::]" { names.insert(host) }
        }
        self.allowed = names
    }

    public func allows(authority: String) -> Bool {
        allowed.contains(Self.hostName(of: authority))
    }

    /// `Example.COM.:8000` → `example.com`; `[::1]:8000` → `[::1]`.
    static func hostName(of authority: String) -> String {
        var host = Substring(authority.trimmingCharacters(in: .whitespaces).lowercased())
        if host.hasPrefix("[") {
            if let close = host.firstIndex(of: "]") { host = host[...close] }
        } else if let colon = host.firstIndex(of: ":") {
            host = host[..<colon]
        }
        while host.hasSuffix(".") { host = host.dropLast() }
        return String(host)
    }
}

/// Which `Origin` headers the server accepts (DNS-rebinding and cross-site protection).
public struct OriginPolicy: Sendable {
    /// Origins allowed besides the loopback ones, e.g. `https://app.example.com`.
    public var allowed: Set<String>

    public init(allowed: Set<String> = []) {
        self.allowed = allowed
    }

    /// Requests without `Origin` (non-browser clients) pass; browser origins must be loopback or listed.
    public func allows(_ origin: String?) -> Bool {
        guard let origin else { return true }
        if allowed.contains(origin) { return true }
        guard let url = URL(string: origin), let host = url.host?.lowercased() else { return false }
        return host == "localhost" || host == "127.0.0.1" || host == "[::1]" || host == "::1"
    }
}
