/// Loads `http(s)` documents through a fetch provider and everything else from local files.
public struct DocumentRouter: DocumentLoader {
    public let local: any DocumentLoader
    public let fetch: any FetchProvider
    /// Bytes of text kept from a fetched document.
    public let maxFetchedBytes: Int

    public init(local: any DocumentLoader, fetch: any FetchProvider, maxFetchedBytes: Int = 2 << 20) {
        self.local = local
        self.fetch = fetch
        self.maxFetchedBytes = maxFetchedBytes
    }

    public func load(path: String) async throws -> LoadedDocument {
        let lowered = path.lowercased()
        guard lowered.hasPrefix("http://") || lowered.hasPrefix("https://") else {
            return try await local.load(path: path)
        }
        let page = try await fetch.fetch(url: path, maxBytes: maxFetchedBytes)
        return LoadedDocument(path: path, text: page.text)
    }
}
