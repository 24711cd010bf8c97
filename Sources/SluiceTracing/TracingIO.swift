public import SluiceProviders
import Foundation
import Synchronization
import Tracing

/// The run's search provider with a `retrieval` span per query, whose `traceparent` the
/// query carries to a web search service.
///
/// A query does not say which step asked it, so its span goes under the one `search` step
/// running, or under the workflow when several run at once (a `map` of searches).
public struct TracingSearch: SearchProvider {
    let inner: any SearchProvider
    let tracer: RunTracer

    public init(_ inner: any SearchProvider, tracer: RunTracer) {
        self.inner = inner
        self.tracer = tracer
    }

    public func search(_ query: SearchQuery) async throws -> [SearchResult] {
        var attributes: SpanAttributes = [:]
        attributes[TraceNames.operationName] = "retrieval"
        attributes[TraceNames.searchMaxResults] = SpanAttribute.int64(Int64(query.maxResults))
        if let days = query.days { attributes[TraceNames.searchDays] = SpanAttribute.int64(Int64(days)) }
        if tracer.export.capturesContent { attributes[TraceNames.retrievalQuery] = tracer.export.redactor.redact(query.text) }
        let span = tracer.startProviderSpan("retrieval search", stepKind: "search", attributes: attributes)
        var traced = query
        traced.onRetry = tracer.retryRecorder(on: span, then: query.onRetry)
        traced.traceparent = tracer.export.traceparent(of: span.context)
        do {
            let results = try await inner.search(traced)
            span.attributes[TraceNames.searchResults] = SpanAttribute.int64(Int64(results.count))
            let providers = Array(Set(results.map(\.provider))).sorted()
            if providers.count == 1 { span.attributes[TraceNames.providerName] = providers[0] }
            span.end()
            return results
        } catch {
            tracer.fail(span, error)
            span.end()
            throw error
        }
    }
}

/// The run's fetch provider with a span per page (`fetch {host}`), under the one `fetch` step
/// running, else the workflow. The URL itself is recorded only with content capture on.
public struct TracingFetch: FetchProvider {
    let inner: any FetchProvider
    let tracer: RunTracer

    public init(_ inner: any FetchProvider, tracer: RunTracer) {
        self.inner = inner
        self.tracer = tracer
    }

    public func fetch(url: String, maxBytes: Int?) async throws -> FetchedPage {
        try await fetch(url: url, maxBytes: maxBytes, onRetry: nil)
    }

    public func fetch(url: String, maxBytes: Int?, onRetry: (@Sendable (ProviderRetryInfo) -> Void)?) async throws -> FetchedPage {
        let host = URLComponents(string: url)?.host ?? ""
        var attributes: SpanAttributes = [:]
        if !host.isEmpty { attributes[TraceNames.serverAddress] = host }
        if let maxBytes { attributes[TraceNames.fetchMaxBytes] = SpanAttribute.int64(Int64(maxBytes)) }
        if tracer.export.capturesContent { attributes[TraceNames.urlFull] = tracer.export.redactor.redact(url) }
        let span = tracer.startProviderSpan(host.isEmpty ? "fetch" : "fetch \(host)", stepKind: "fetch", attributes: attributes)
        do {
            let page = try await inner.fetch(url: url, maxBytes: maxBytes, onRetry: tracer.retryRecorder(on: span, then: onRetry))
            span.attributes[TraceNames.fetchCharacters] = SpanAttribute.int64(Int64(page.text.count))
            span.end()
            return page
        } catch {
            tracer.fail(span, error)
            span.end()
            throw error
        }
    }
}

extension RunTracer {
    /// A span for one search or fetch, under the only open step of `stepKind`, else the workflow.
    func startProviderSpan(_ name: String, stepKind: String, attributes: SpanAttributes) -> any Span {
        let parent: ServiceContext = state.withLock { state in
            let open = state.kinds.filter { $0.value == stepKind }
            if open.count == 1, let key = open.first?.key, let span = state.steps[key] { return span.context }
            return state.workflow?.context ?? self.parent
        }
        let span = export.tracer.startSpan(name, context: parent, ofKind: .client, at: DefaultTracerClock.now, function: #function, file: #fileID, line: #line)
        span.attributes.merge(attributes)
        return span
    }

    /// Records each provider retry on `span` (the engine still hears of it).
    func retryRecorder(on span: any Span, then next: (@Sendable (ProviderRetryInfo) -> Void)?) -> @Sendable (ProviderRetryInfo) -> Void {
        let redactor = export.redactor
        return { info in
            span.addEvent(SpanEvent(name: "sluice.provider.retrying", attributes: [
                "sluice.provider": .string(info.provider), "sluice.attempt": .int64(Int64(info.attempt)),
                "sluice.max_attempts": .int64(Int64(info.maxAttempts)), "sluice.reason": .string(redactor.redact(String(info.reason.prefix(300)))),
            ]))
            next?(info)
        }
    }

    func fail(_ span: any Span, _ error: any Error) {
        let message: String
        if let provider = error as? ProviderError {
            span.attributes[TraceNames.errorType] = provider.code.description
            message = provider.message
        } else {
            span.attributes[TraceNames.errorType] = String(describing: type(of: error))
            message = String(describing: error)
        }
        span.setStatus(SpanStatus(code: .error, message: export.redactor.redact(String(message.prefix(500)))))
    }
}
