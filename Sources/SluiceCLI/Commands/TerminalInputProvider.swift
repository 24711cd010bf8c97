import Foundation
import SluiceEngine
import SluiceJSON
import Synchronization

/// Answers `confirm` steps by asking on the terminal (stderr for the question, stdin for the
/// answer), only when both are terminals; otherwise there is nobody to ask and the step's
/// `fallback` applies.
struct TerminalInputProvider: InputProvider {
    /// A provider when stdin and stderr are terminals, else nil.
    static func ifInteractive() -> TerminalInputProvider? {
        isatty(STDIN_FILENO) == 1 && isatty(STDERR_FILENO) == 1 ? TerminalInputProvider() : nil
    }

    func confirm(_ request: ConfirmationRequest) async throws -> Bool {
        var prompt = "\n\(request.message)\n"
        if !request.details.isNull { prompt += request.details.serialized(pretty: true) + "\n" }
        prompt += "Approve? [y/N] "
        FileHandle.standardError.write(Data(prompt.utf8))
        let answer = try await Self.readLine()
        return ["y", "yes"].contains(answer.trimmingCharacters(in: .whitespaces).lowercased())
    }

    /// One line from stdin, read on its own thread so the cooperative pool never blocks; a
    /// cancelled run stops waiting at once (the thread finishes when the line comes).
    private static func readLine() async throws -> String {
        let answer = Answer()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                answer.wait(continuation)
                Thread.detachNewThread { answer.deliver(.success(Swift.readLine() ?? "")) }
            }
        } onCancel: {
            answer.deliver(.failure(CancellationError()))
        }
    }

    /// Hands the first result (a line, or a cancellation) to the waiting continuation exactly
    /// once, whichever of the two arrives first.
    private final class Answer: Sendable {
        private struct State {
            var continuation: CheckedContinuation<String, any Error>?
            var result: Result<String, any Error>?
            var delivered = false
        }

        private let state = Mutex(State())

        func wait(_ continuation: CheckedContinuation<String, any Error>) {
            let ready = state.withLock { state -> Result<String, any Error>? in
                guard let result = state.result else {
                    state.continuation = continuation
                    return nil
                }
                state.delivered = true
                return result
            }
            if let ready { continuation.resume(with: ready) }
        }

        func deliver(_ result: Result<String, any Error>) {
            let waiting = state.withLock { state -> CheckedContinuation<String, any Error>? in
                guard !state.delivered else { return nil }
                guard let continuation = state.continuation else {
                    if state.result == nil { state.result = result }
                    return nil
                }
                state.delivered = true
                state.continuation = nil
                return continuation
            }
            waiting?.resume(with: result)
        }
    }
}
