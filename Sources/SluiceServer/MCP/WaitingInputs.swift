import Foundation
import SluiceEngine
import SluiceJSON
import SluiceRunLog
import Synchronization

/// Runs started from the web page with `"confirm": "ask"` that wait, in this process, for
/// `POST /v1/runs/{id}/answer` at a `confirm` step (see ``WebConfirmation``). MCP 2026-07-28
/// input requests do not wait here: their runs wait in the durable store (``WaitRelease``).
///
/// A question is answered once: its nonce is consumed. A question nobody answers within
/// `timeout` cancels its run. ``beginResume(runID:)`` also keeps two resumes of one stored
/// run in this process apart.
final class WaitingInputs: Sendable {
    /// What a waiting run asks.
    struct Question: Sendable, Equatable {
        var runID: String
        var step: String
        var message: String
        var details: JSONValue
        /// Fresh for every question; the signed `requestState` names it.
        var nonce: String
        /// The run's last event `seq` when it asked: a retry streams what follows.
        var seq: Int
    }

    private struct Entry {
        var question: Question
        var answer: CheckedContinuation<Bool, any Error>
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var watchers: [String: [UInt64: AsyncStream<Question>.Continuation]] = [:]
        var nextWatcher: UInt64 = 0
        /// Stored runs being resumed in this process (by an answer, or from the web page).
        var resuming: Set<String> = []
    }

    private let state = Mutex(State())
    let timeout: Duration

    init(timeout: Duration) {
        self.timeout = timeout
    }

    /// Parks the run until the question is answered; throws `CancellationError` when the run
    /// is cancelled or nobody answered in time (`onTimeout` then cancels the run).
    func ask(_ question: Question, onTimeout: @escaping @Sendable () -> Void) async throws -> Bool {
        let timeout = self.timeout
        return try await withThrowingTaskGroup(of: Bool?.self) { group in
            group.addTask { try await self.park(question) }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw CancellationError() }
            guard let answer = first else {
                onTimeout()
                throw CancellationError()
            }
            return answer
        }
    }

    private func park(_ question: Question) async throws -> Bool {
        let runID = question.runID
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let watchers = state.withLock { state -> [AsyncStream<Question>.Continuation] in
                    state.entries[runID] = Entry(question: question, answer: continuation)
                    return Array(state.watchers[runID, default: [:]].values)
                }
                for watcher in watchers { watcher.yield(question) }
                // Cancelled before registering: the handler below found nothing to resume.
                if Task.isCancelled { self.withdraw(runID: runID, nonce: question.nonce) }
            }
        } onCancel: {
            self.withdraw(runID: runID, nonce: question.nonce)
        }
    }

    private func withdraw(runID: String, nonce: String) {
        let entry = state.withLock { state -> Entry? in
            guard state.entries[runID]?.question.nonce == nonce else { return nil }
            return state.entries.removeValue(forKey: runID)
        }
        entry?.answer.resume(throwing: CancellationError())
    }

    /// Claims the continuation of stored run `runID` for one retry; false while another does it.
    func beginResume(runID: String) -> Bool {
        state.withLock { $0.resuming.insert(runID).inserted }
    }

    func endResume(runID: String) {
        _ = state.withLock { $0.resuming.remove(runID) }
    }

    /// The question run `runID` waits on now.
    func question(runID: String) -> Question? {
        state.withLock { $0.entries[runID]?.question }
    }

    /// Answers the question named by `nonce`; false when the run does not wait on it (already
    /// answered, replayed, or the run ended).
    func answer(runID: String, nonce: String, approve: Bool) -> Bool {
        let entry = state.withLock { state -> Entry? in
            guard state.entries[runID]?.question.nonce == nonce else { return nil }
            return state.entries.removeValue(forKey: runID)
        }
        guard let entry else { return false }
        entry.answer.resume(returning: approve)
        return true
    }

    /// The questions run `runID` asks from now on (the one it waits on first, if any); the
    /// stream ends when the consuming task is cancelled.
    func questions(runID: String) -> AsyncStream<Question> {
        let (stream, continuation) = AsyncStream.makeStream(of: Question.self)
        let key = state.withLock { state -> UInt64 in
            let key = state.nextWatcher
            state.nextWatcher += 1
            state.watchers[runID, default: [:]][key] = continuation
            if let pending = state.entries[runID] { continuation.yield(pending.question) }
            return key
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { state in
                state.watchers[runID]?.removeValue(forKey: key)
                if state.watchers[runID]?.isEmpty == true { state.watchers.removeValue(forKey: runID) }
            }
        }
        return stream
    }
}
