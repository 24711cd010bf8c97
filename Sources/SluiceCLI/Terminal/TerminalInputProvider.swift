import Foundation
public import SluiceEngine
import SluiceJSON
import Synchronization

/// Answers `confirm` steps by asking the person at the terminal (`[Y/n]`).
///
/// The live view is paused while it asks (see ``TerminalEventView/pause()``), so its redraws
/// do not land in the question or the answer.
///
/// The blocking read runs on its own thread, never on Swift's cooperative pool; cancelling the
/// run ends the wait at once (the thread is left to finish its read, which costs nothing more).
public struct TerminalInputProvider: InputProvider {
    private let write: @Sendable (String) -> Void
    private let readLine: @Sendable () -> String?
    private let view: TerminalEventView?

    /// - Parameters:
    ///   - write: where the question goes.
    ///   - view: the live view to pause while asking.
    ///   - readLine: a blocking read of one answer line (nil at end of input).
    public init(
        write: @escaping @Sendable (String) -> Void, pausing view: TerminalEventView? = nil,
        readLine: @escaping @Sendable () -> String?
    ) {
        self.write = write
        self.view = view
        self.readLine = readLine
    }

    /// A provider on stdin/stdout, or nil when either is not a TTY (then nobody can be asked,
    /// and confirm steps apply their `fallback`).
    /// - Parameter view: the view drawing on the same terminal, paused while asking.
    public static func standard(pausing view: TerminalEventView? = nil) -> TerminalInputProvider? {
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else { return nil }
        return TerminalInputProvider(
            write: { FileHandle.standardOutput.write(Data($0.utf8)) },
            pausing: view,
            readLine: { Swift.readLine(strippingNewline: true) }
        )
    }

    public func confirm(_ request: ConfirmationRequest) async throws -> Bool {
        view?.pause()
        defer { view?.resume() }
        var question = "\n" + request.message + "\n"
        if !request.details.isNull {
            let lines = request.details.serialized(pretty: true).split(separator: "\n", omittingEmptySubsequences: false)
            question += lines.prefix(40).map { "  " + $0 }.joined(separator: "\n") + "\n"
            if lines.count > 40 { question += "  … (\(lines.count - 40) more lines)\n" }
        }
        write(question + "Approve? [Y/n] ")
        while true {
            guard let answer = try await Self.read(readLine) else { return false }
            switch answer.trimmingCharacters(in: .whitespaces).lowercased() {
            case "", "y", "yes": return true
            case "n", "no": return false
            default: write("Please answer y or n: ")
            }
        }
    }

    /// One blocking read on a dedicated thread, abandoned (not waited for) when the task is cancelled.
    static func read(_ readLine: @escaping @Sendable () -> String?) async throws -> String? {
        let waiter = Waiter()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<String?, any Error>) in
                guard waiter.install(continuation) else { return }
                Thread { waiter.resume(.success(readLine())) }.start()
            }
        } onCancel: {
            waiter.resume(.failure(CancellationError()))
        }
    }

    /// Resumes a continuation exactly once, whichever of the read and the cancellation comes first.
    private final class Waiter: Sendable {
        private enum State {
            case idle
            case waiting(CheckedContinuation<String?, any Error>)
            case done(Result<String?, any Error>?)
        }
        private let state = Mutex<State>(.idle)

        /// Stores the continuation; false (after resuming it) when the outcome is already known.
        func install(_ continuation: CheckedContinuation<String?, any Error>) -> Bool {
            let early: Result<String?, any Error>?? = state.withLock { state in
                if case .done(let result) = state {
                    state = .done(nil)
                    return .some(result)
                }
                state = .waiting(continuation)
                return .none
            }
            guard let early else { return true }
            if let early { continuation.resume(with: early) }
            return false
        }

        func resume(_ result: Result<String?, any Error>) {
            let continuation: CheckedContinuation<String?, any Error>? = state.withLock { state in
                switch state {
                case .idle:
                    state = .done(result)
                    return nil
                case .waiting(let continuation):
                    state = .done(nil)
                    return continuation
                case .done:
                    return nil
                }
            }
            continuation?.resume(with: result)
        }
    }
}
