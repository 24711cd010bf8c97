import SluiceJSON
import Synchronization

@testable import SluiceProviders

/// Collects what a model call streamed, and the retries it reported.
final class CallRecorder: Sendable {
    private let state = Mutex<(deltas: [String], retries: [ProviderRetryInfo], sleeps: [Duration])>(([], [], []))

    var deltas: [String] { state.withLock { $0.deltas } }
    var retries: [ProviderRetryInfo] { state.withLock { $0.retries } }
    var sleeps: [Duration] { state.withLock { $0.sleeps } }

    func delta(_ text: String) { state.withLock { $0.deltas.append(text) } }
    func retry(_ info: ProviderRetryInfo) { state.withLock { $0.retries.append(info) } }
    func slept(_ duration: Duration) { state.withLock { $0.sleeps.append(duration) } }

    /// A retry policy that records its waits instead of waiting (tests assert values, not time).
    var retryPolicy: ProviderRetryPolicy {
        ProviderRetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(100), random: { 0.5 }, sleep: { [self] in slept($0) })
    }

    /// Runs `generate` with retries observed.
    func generate(_ model: some ModelProvider, _ request: ModelRequest) async throws -> ModelResponse {
        var observed = request
        observed.onRetry = { [self] info in retry(info) }
        return try await model.generate(observed) { [self] in delta($0) }
    }
}

enum Schemas {
    static let article: JSONValue = [
        "type": "object",
        "properties": ["title": ["type": "string"], "score": ["type": "integer"]],
        "required": ["title", "score"],
    ]
}
