/// A failure of a provider call (model, search, fetch, document), with what the engine needs
/// to decide whether to retry.
public struct ProviderError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Value: String, Sendable, Hashable {
            case transient, rateLimited, timeout, invalidRequest, invalidResponse, notFound, refused,
                unsupported, unauthorized, unknownProvider, notConfigured
        }
        private let value: Value

        /// A temporary failure (connection reset, 5xx): worth retrying.
        public static let transient = Code(value: .transient)
        /// The service asked us to slow down: worth retrying after a delay.
        public static let rateLimited = Code(value: .rateLimited)
        /// The call took too long.
        public static let timeout = Code(value: .timeout)
        /// The request itself is wrong; retrying will not help.
        public static let invalidRequest = Code(value: .invalidRequest)
        /// The service answered with something we cannot use.
        public static let invalidResponse = Code(value: .invalidResponse)
        /// The document, page or corpus entry does not exist.
        public static let notFound = Code(value: .notFound)
        /// The request was refused on purpose (a path outside the allowed root, a blocked URL).
        public static let refused = Code(value: .refused)
        /// This provider cannot do that (e.g. a local loader asked for a URL).
        public static let unsupported = Code(value: .unsupported)
        /// Missing or wrong credentials.
        public static let unauthorized = Code(value: .unauthorized)
        /// No provider is configured under that name.
        public static let unknownProvider = Code(value: .unknownProvider)
        /// A provider is known but its configuration (a key, a base URL) is missing.
        public static let notConfigured = Code(value: .notConfigured)

        public var description: String {
            switch value {
            case .transient: "transient"
            case .rateLimited: "rate_limited"
            case .timeout: "timeout"
            case .invalidRequest: "invalid_request"
            case .invalidResponse: "invalid_response"
            case .notFound: "not_found"
            case .refused: "refused"
            case .unsupported: "unsupported"
            case .unauthorized: "unauthorized"
            case .unknownProvider: "unknown_provider"
            case .notConfigured: "not_configured"
            }
        }
    }

    public var code: Code
    public var message: String
    /// The provider that failed (`openai`, `corpus`, `local-files`, …).
    public var provider: String
    /// How long the service asked us to wait before trying again (`Retry-After`), when it said.
    public var retryAfter: Duration?

    public init(_ code: Code, _ message: String, provider: String, retryAfter: Duration? = nil) {
        self.code = code
        self.message = message
        self.provider = provider
        self.retryAfter = retryAfter
    }

    /// Whether trying the same call again may succeed.
    public var isRetryable: Bool {
        code == .transient || code == .rateLimited || code == .timeout
    }

    public var description: String { "\(provider): \(message)" }
}
