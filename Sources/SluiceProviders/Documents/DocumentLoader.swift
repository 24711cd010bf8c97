/// A document's text, ready to be chunked.
public struct LoadedDocument: Sendable, Hashable {
    /// The path or URL as the plan gave it.
    public var path: String
    public var text: String

    public init(path: String, text: String) {
        self.path = path
        self.text = text
    }
}

/// Loads documents (a `load` step's `path`) as plain text.
///
/// #### Errors
/// ``ProviderError``: `refused` for a path outside the allowed root, `notFound`,
/// `unsupported` for a kind of document the loader cannot read; `CancellationError`.
public protocol DocumentLoader: Sendable {
    func load(path: String) async throws -> LoadedDocument
}
