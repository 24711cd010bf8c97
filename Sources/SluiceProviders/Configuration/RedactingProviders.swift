import Synchronization

// Every configured secret is hidden from what the providers give back — model text (streamed
// and whole), search hits, fetched pages, loaded documents and provider errors — before the
// engine sees it, so no event, stored run, checkpoint, cached response, log line or answer can
// carry it: a model (or a proxy, or a web page) that quotes a key quotes `[redacted]`.
// Placed innermost, around the real services, beneath any cache.

extension SecretRedactor {
    public var isEmpty: Bool { secretCount == 0 }

    /// An error with its message redacted (a ``ProviderError``); other errors as they are.
    func redact(_ error: any Error) -> any Error {
        guard var failure = error as? ProviderError else { return error }
        failure.message = redact(failure.message)
        return failure
    }

    /// `work`'s result, with the message of any provider error it throws redacted.
    func redactingErrors<T>(_ work: () async throws -> T) async throws -> T {
        do {
            return try await work()
        } catch {
            throw redact(error)
        }
    }
}

/// A model whose answers never carry a secret, however the text is split into deltas.
public struct RedactingModel: ModelProvider {
    public let base: any ModelProvider
    public let redactor: SecretRedactor

    public init(_ base: any ModelProvider, redactor: SecretRedactor) {
        self.base = base
        self.redactor = redactor
    }

    public func generate(_ request: ModelRequest, onDelta: @Sendable (String) async throws -> Void) async throws -> ModelResponse {
        let stream = StreamRedaction(redactor)
        var response = try await redactor.redactingErrors {
            try await base.generate(request) { delta in
                let safe = stream.push(delta)
                if !safe.isEmpty { try await onDelta(safe) }
            }
        }
        let tail = stream.finish()
        if !tail.isEmpty { try await onDelta(tail) }
        response.text = redactor.redact(response.text)
        return response
    }
}

/// Redacts a text that arrives in pieces: it holds back the last (longest secret − 1)
/// characters, so a secret split across two deltas is still whole when it is replaced.
final class StreamRedaction: Sendable {
    private let redactor: SecretRedactor
    private let held = Mutex("")

    init(_ redactor: SecretRedactor) {
        self.redactor = redactor
    }

    /// What can be sent now.
    func push(_ delta: String) -> String {
        let keep = redactor.longestSecret - 1
        guard keep >= 0 else { return delta }
        return held.withLock { held in
            let text = redactor.redact(held + delta)
            let cut = text.index(text.endIndex, offsetBy: -min(keep, text.count))
            held = String(text[cut...])
            return String(text[..<cut])
        }
    }

    /// The rest, at the end of the answer.
    func finish() -> String {
        held.withLock { held in
            defer { held = "" }
            return redactor.redact(held)
        }
    }
}

/// Search hits with secrets hidden in their titles, snippets and addresses.
public struct RedactingSearch: SearchProvider {
    public let base: any SearchProvider
    public let redactor: SecretRedactor

    public init(_ base: any SearchProvider, redactor: SecretRedactor) {
        self.base = base
        self.redactor = redactor
    }

    public func search(_ query: SearchQuery) async throws -> [SearchResult] {
        try await redactor.redactingErrors {
            try await base.search(query).map { hit in
                var hit = hit
                hit.title = redactor.redact(hit.title)
                hit.snippet = redactor.redact(hit.snippet)
                hit.url = redactor.redact(hit.url)
                return hit
            }
        }
    }
}

/// Fetched pages with secrets hidden.
public struct RedactingFetch: FetchProvider {
    public let base: any FetchProvider
    public let redactor: SecretRedactor

    public init(_ base: any FetchProvider, redactor: SecretRedactor) {
        self.base = base
        self.redactor = redactor
    }

    public func fetch(url: String, maxBytes: Int?) async throws -> FetchedPage {
        try await fetch(url: url, maxBytes: maxBytes, onRetry: nil)
    }

    public func fetch(url: String, maxBytes: Int?, onRetry: (@Sendable (ProviderRetryInfo) -> Void)?) async throws -> FetchedPage {
        var page = try await redactor.redactingErrors { try await base.fetch(url: url, maxBytes: maxBytes, onRetry: onRetry) }
        page.title = redactor.redact(page.title)
        page.text = redactor.redact(page.text)
        return page
    }
}

/// Loaded documents with secrets hidden (a document that quotes a key is read without it).
public struct RedactingDocuments: DocumentLoader {
    public let base: any DocumentLoader
    public let redactor: SecretRedactor

    public init(_ base: any DocumentLoader, redactor: SecretRedactor) {
        self.base = base
        self.redactor = redactor
    }

    public func load(path: String) async throws -> LoadedDocument {
        var document = try await redactor.redactingErrors { try await base.load(path: path) }
        document.text = redactor.redact(document.text)
        return document
    }
}
