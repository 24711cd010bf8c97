/// How a provider retries a failed call: which failures, how many times, how long between.
///
/// Retried: timeouts, network failures, 408, 409, 429 and 5xx (``ProviderError/isRetryable``).
/// Never retried: any other 4xx (the request itself is wrong). The delay doubles each attempt
/// from `baseDelay` up to `maxDelay`, with jitter (half fixed, half random) so that many
/// clients failing together do not retry together; a `Retry-After` from the service wins.
public struct ProviderRetryPolicy: Sendable {
    /// Attempts in all, the first included; 1 disables retries.
    public var maxAttempts: Int
    public var baseDelay: Duration
    public var maxDelay: Duration
    /// The longest `Retry-After` honoured; a service asking for more fails the call instead.
    public var maxRetryAfter: Duration
    /// A number in 0..<1 for jitter (inject a constant in tests).
    public var random: @Sendable () -> Double
    /// Waits between attempts (inject a recorder in tests); must throw on cancellation.
    public var sleep: @Sendable (Duration) async throws -> Void

    public init(
        maxAttempts: Int = 4, baseDelay: Duration = .milliseconds(500), maxDelay: Duration = .seconds(30),
        maxRetryAfter: Duration = .seconds(120),
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxRetryAfter = maxRetryAfter
        self.random = random
        self.sleep = sleep
    }

    /// No retries at all.
    public static let none = ProviderRetryPolicy(maxAttempts: 1)

    /// The wait before attempt `attempt + 1`, after attempt `attempt` (from 1) failed with `error`.
    func delay(after attempt: Int, error: ProviderError) -> Duration? {
        if let retryAfter = error.retryAfter {
            return retryAfter <= maxRetryAfter ? retryAfter : nil
        }
        var exponential = baseDelay
        for _ in 1..<max(1, attempt) where exponential < maxDelay { exponential *= 2 }
        let capped = min(exponential, maxDelay)
        return capped / 2 + capped * (random() / 2)
    }

    /// Runs `operation` until it succeeds, fails for good, or the attempts run out, reporting
    /// each retry to `observer`. An explicit observer, not a task-local: pushing a task-local
    /// around provider calls crashed release builds (`swift_task_localValuePush`, Swift 6.3).
    func run<T>(
        provider: String, metadata: ModelRequest.Metadata? = nil,
        observer: (@Sendable (ProviderRetryInfo) -> Void)? = nil,
        _ operation: () async throws -> T
    ) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await operation()
            } catch let error as ProviderError {
                guard error.isRetryable, attempt < maxAttempts, let delay = delay(after: attempt, error: error) else { throw error }
                observer?(ProviderRetryInfo(provider: provider, attempt: attempt, maxAttempts: maxAttempts, delay: delay, reason: error.message, code: error.code, metadata: metadata))
                try await sleep(delay)
                attempt += 1
            }
        }
    }
}

/// One retry about to happen: what failed and how long until the next attempt.
public struct ProviderRetryInfo: Sendable, Hashable {
    public var provider: String
    /// The attempt that failed, from 1.
    public var attempt: Int
    public var maxAttempts: Int
    public var delay: Duration
    /// Why (the failure's message; never contains a key).
    public var reason: String
    public var code: ProviderError.Code
    /// The model call's metadata (step, item, iteration), nil for search and fetch.
    public var metadata: ModelRequest.Metadata?
}
