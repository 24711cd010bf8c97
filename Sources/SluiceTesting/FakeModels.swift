public import SluiceProviders
import Synchronization

/// Counts calls in flight and remembers the peak, to observe concurrency caps.
public final class InFlightCounter: Sendable {
    private let state = Mutex<(current: Int, peak: Int, total: Int)>((0, 0, 0))

    public init() {}

    public func enter() {
        state.withLock {
            $0.current += 1
            $0.total += 1
            $0.peak = max($0.peak, $0.current)
        }
    }

    public func leave() { state.withLock { $0.current -= 1 } }

    public var peak: Int { state.withLock { $0.peak } }
    public var total: Int { state.withLock { $0.total } }
    public var current: Int { state.withLock { $0.current } }
}

/// A model whose answers a test scripts with a closure; records every request.
///
/// The answer is streamed in chunks of `chunkSize` characters; usage counts one token per
/// four characters under the request's own provider and model.
public final class ScriptedModel: ModelProvider {
    public typealias Script = @Sendable (ModelRequest, _ call: Int) async throws -> String

    private let script: Script
    private let chunkSize: Int
    private let delay: Duration
    private let recorded = Mutex<[ModelRequest]>([])
    public let inFlight = InFlightCounter()

    /// - Parameters:
    ///   - chunkSize: characters per streamed delta.
    ///   - delay: a pause before answering (cancellable), to make calls overlap.
    ///   - script: the answer to a request; `call` counts from 1 across all requests.
    public init(chunkSize: Int = 8, delay: Duration = .zero, script: @escaping Script) {
        self.script = script
        self.chunkSize = max(1, chunkSize)
        self.delay = delay
    }

    /// Always answers `text`.
    public convenience init(answer text: String) {
        self.init { _, _ in text }
    }

    public var requests: [ModelRequest] { recorded.withLock { $0 } }

    public func generate(
        _ request: ModelRequest,
        onDelta: @Sendable (String) async throws -> Void
    ) async throws -> ModelResponse {
        let call = recorded.withLock { requests in
            requests.append(request)
            return requests.count
        }
        inFlight.enter()
        defer { inFlight.leave() }
        if delay > .zero { try await Task.sleep(for: delay) }
        let text = try await script(request, call)
        if request.stream {
            var rest = Substring(text)
            while !rest.isEmpty {
                try Task.checkCancellation()
                try await onDelta(String(rest.prefix(chunkSize)))
                rest = rest.dropFirst(chunkSize)
            }
        }
        let usage = ModelUsage(
            provider: request.model.provider, model: request.model.name,
            inputTokens: (request.prompt.count + 3) / 4, outputTokens: (text.count + 3) / 4
        )
        return ModelResponse(text: text, usage: usage)
    }
}

/// A model that never answers: it waits until its task is cancelled, and records that it saw it.
public final class HangingModel: ModelProvider {
    private let state = Mutex<(started: Int, cancelled: Int)>((0, 0))

    public init() {}

    public var startedCalls: Int { state.withLock { $0.started } }
    /// Calls that ended because their task was cancelled.
    public var cancelledCalls: Int { state.withLock { $0.cancelled } }

    public func generate(
        _ request: ModelRequest,
        onDelta: @Sendable (String) async throws -> Void
    ) async throws -> ModelResponse {
        state.withLock { $0.started += 1 }
        do {
            try await onDelta("thinking…")
            try await Task.sleep(for: .seconds(3600))
        } catch {
            if Task.isCancelled { state.withLock { $0.cancelled += 1 } }
            throw error
        }
        throw ProviderError(.transient, "slept an hour", provider: request.model.provider)
    }
}
