import Foundation

/// One HTTP header line.
public struct HTTPHeader: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// How long each phase of a transfer may take before it is abandoned.
///
/// Model streams can think for a while before the first token, then must keep flowing:
/// the phases are separate so a slow start and a stalled stream are told apart.
public struct HTTPTimeouts: Sendable, Hashable {
    /// Resolving the name and opening the connection (TLS included).
    public var connect: Duration
    /// From the start of the transfer to the first byte of the response.
    public var firstByte: Duration?
    /// The longest silence between two pieces of the response once it has started.
    public var idle: Duration?
    /// The whole transfer, body included.
    public var total: Duration?

    public init(connect: Duration = .seconds(15), firstByte: Duration? = .seconds(120), idle: Duration? = .seconds(90), total: Duration? = .seconds(900)) {
        self.connect = connect
        self.firstByte = firstByte
        self.idle = idle
        self.total = total
    }
}

/// Which resolved addresses a request may connect to.
///
/// Checked on the address the connection is really opened to (after DNS, after each redirect),
/// so a public name that resolves to 127.0.0.1 is refused as well.
public struct AddressPolicy: Sendable, Hashable {
    public var allowLoopback: Bool
    /// 10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7 and link-local (169.254/16, fe80::/10).
    public var allowPrivate: Bool

    public init(allowLoopback: Bool, allowPrivate: Bool) {
        self.allowLoopback = allowLoopback
        self.allowPrivate = allowPrivate
    }

    /// Any address (model and search APIs, whose base URLs come from configuration).
    public static let any = AddressPolicy(allowLoopback: true, allowPrivate: true)
    /// Public addresses only (pages named by plans or found by search).
    public static let publicOnly = AddressPolicy(allowLoopback: false, allowPrivate: false)

    var allowsEverything: Bool { allowLoopback && allowPrivate }
}

/// A request for ``HTTPClient``.
public struct HTTPRequest: Sendable {
    public enum Method: String, Sendable, Hashable {
        case get = "GET", post = "POST", put = "PUT", delete = "DELETE", head = "HEAD"
    }

    public var method: Method
    public var url: String
    public var headers: [HTTPHeader]
    public var body: [UInt8]?
    public var timeouts: HTTPTimeouts
    public var followRedirects: Bool
    /// The transfer fails once the body grows past this many bytes; nil for no limit.
    public var maxResponseBytes: Int?
    public var addressPolicy: AddressPolicy

    public init(
        method: Method = .get, url: String, headers: [HTTPHeader] = [], body: [UInt8]? = nil,
        timeouts: HTTPTimeouts = HTTPTimeouts(), followRedirects: Bool = false, maxResponseBytes: Int? = nil,
        addressPolicy: AddressPolicy = .any
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeouts = timeouts
        self.followRedirects = followRedirects
        self.maxResponseBytes = maxResponseBytes
        self.addressPolicy = addressPolicy
    }

    /// The host part of the URL, for error messages that must not show the query (it may hold a key).
    var hostForMessages: String {
        guard let schemeEnd = url.range(of: "://") else { return "the server" }
        let rest = url[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        let host = authority.split(separator: "@").last.map(String.init) ?? String(authority)
        return host.isEmpty ? "the server" : host
    }
}

/// The status line and headers of a response.
public struct HTTPResponseHead: Sendable, Hashable {
    public var status: Int
    public var headers: [HTTPHeader]

    public init(status: Int, headers: [HTTPHeader]) {
        self.status = status
        self.headers = headers
    }

    /// The first header named `name` (case-insensitive).
    public func value(for name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name.lowercased() == lowered }?.value
    }

    public var isSuccess: Bool { (200..<300).contains(status) }
}

/// A whole response.
public struct HTTPResponse: Sendable {
    public var head: HTTPResponseHead
    public var body: [UInt8]

    public init(head: HTTPResponseHead, body: [UInt8]) {
        self.head = head
        self.body = body
    }

    public var status: Int { head.status }
    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// Why a transfer failed before a complete response arrived.
public struct HTTPClientError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        case connectTimeout, firstByteTimeout, idleTimeout, totalTimeout
        /// Name resolution, connection, TLS or a connection cut off midway.
        case network
        /// The resolved address is not allowed by the request's ``AddressPolicy``.
        case addressRefused
        case responseTooLarge
        case invalidRequest
    }

    public var kind: Kind
    /// What happened, naming the host but never the query string (which may hold a key).
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var isTimeout: Bool {
        kind == .connectTimeout || kind == .firstByteTimeout || kind == .idleTimeout || kind == .totalTimeout
    }

    public var description: String { message }
}
