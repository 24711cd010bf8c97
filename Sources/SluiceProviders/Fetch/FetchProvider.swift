/// A fetched page turned into readable text.
public struct FetchedPage: Sendable, Hashable {
    public var url: String
    public var title: String
    public var text: String

    public init(url: String, title: String, text: String) {
        self.url = url
        self.title = title
        self.text = text
    }
}

/// Fetches pages by URL.
///
/// A page that cannot be fetched throws; the engine records it under the step's `failed`
/// list with the error's message and goes on with the other URLs.
///
/// #### Errors
/// ``ProviderError`` (`notFound`, `refused`, `transient`, …); `CancellationError`.
public protocol FetchProvider: Sendable {
    /// - Parameters:
    ///   - url: the page's address.
    ///   - maxBytes: keep at most this many bytes of text; nil for the provider's default.
    func fetch(url: String, maxBytes: Int?) async throws -> FetchedPage

    /// The same, telling `onRetry` about each retry the provider makes (the engine reports them
    /// as `step.retrying`). By default the retries go unreported.
    func fetch(url: String, maxBytes: Int?, onRetry: (@Sendable (ProviderRetryInfo) -> Void)?) async throws -> FetchedPage
}

extension FetchProvider {
    public func fetch(url: String, maxBytes: Int?, onRetry: (@Sendable (ProviderRetryInfo) -> Void)?) async throws -> FetchedPage {
        try await fetch(url: url, maxBytes: maxBytes)
    }
}
