public import SluiceEngine
public import SluiceProviders

/// The run's model provider, telling the run's tracer when each request starts and ends and
/// handing the provider the `traceparent` of each call's span (``ModelRequest/traceparent``).
public struct TracingModel: ModelProvider {
    let inner: any ModelProvider
    let tracer: RunTracer

    public init(_ inner: any ModelProvider, tracer: RunTracer) {
        self.inner = inner
        self.tracer = tracer
    }

    public func generate(_ request: ModelRequest, onDelta: @Sendable (String) async throws -> Void) async throws -> ModelResponse {
        let key = tracer.key(of: request)
        tracer.modelRequestStarted(request)
        var traced = request
        let tracer = self.tracer
        let outer = request.traceparent
        traced.traceparent = { tracer.callTraceparent(key) ?? outer?() }
        do {
            let response = try await inner.generate(traced, onDelta: onDelta)
            tracer.modelRequestEnded(key, response: response, error: nil)
            return response
        } catch {
            tracer.modelRequestEnded(key, response: nil, error: error)
            throw error
        }
    }
}

extension RunEngine.Providers {
    /// The same providers with model calls, searches and fetches traced by `tracer` (the
    /// outermost wrappers, so a cached or checkpointed answer gets its span too).
    public func traced(by tracer: RunTracer?) -> RunEngine.Providers {
        guard let tracer else { return self }
        var providers = self
        providers.model = TracingModel(model, tracer: tracer)
        providers.search = TracingSearch(search, tracer: tracer)
        providers.fetch = TracingFetch(fetch, tracer: tracer)
        return providers
    }
}
