import SluiceJSON
import Synchronization

/// The answer to one request this server sent to the client, fulfilled once.
final class ResponsePromise: Sendable {
    private struct State {
        var outcome: Result<JSONValue, any Error>?
        var waiter: CheckedContinuation<JSONValue, any Error>?
    }

    private let state = Mutex(State())

    func fulfill(_ outcome: Result<JSONValue, any Error>) {
        let waiter = state.withLock { state -> CheckedContinuation<JSONValue, any Error>? in
            guard state.outcome == nil else { return nil }
            state.outcome = outcome
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(with: outcome)
    }

    /// Waits for the answer; cancelling the waiting task fails it with `CancellationError`.
    func value() async throws -> JSONValue {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<JSONValue, any Error>) in
                let ready = state.withLock { state -> Result<JSONValue, any Error>? in
                    if let outcome = state.outcome { return outcome }
                    state.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(with: ready) }
            }
        } onCancel: {
            fulfill(.failure(CancellationError()))
        }
    }
}
