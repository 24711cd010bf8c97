import Foundation
import SluiceEngine
import SluiceJSON
import SluiceRunLog
import Synchronization

/// Runs started by MCP 2026-07-28 calls that wait for their caller's answer to a `confirm`
/// step (multi round-trip requests): the call that met the question answers with an
/// input-required result and ends; the client's retry brings the answer here.
///
/// A question is answered once: its nonce is consumed, so a replayed `requestState` finds
/// nothing to answer. A question nobody answers within `timeout` cancels its run.
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
        /// Stored runs a retry is continuing in this process.
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

/// Answers `confirm` steps of a 2026-07-28 call by parking the run in ``WaitingInputs``; the
/// call then answers with an input-required result (``MCPSession/modernCallTool``).
///
/// A resumed run's first question may already be answered (`answered`): the retry that
/// resumed it brought the answer.
struct InputRequestChannel: ConfirmationChannel {
    let waiting: WaitingInputs
    let runs: RunManager
    let progress: Progress

    /// What this run's questions have reached: the `input.requested` seq of the last one, and
    /// an answer waiting for the next one.
    final class Progress: Sendable {
        let state: Mutex<(floor: Int, answered: (step: String, approve: Bool)?)>

        init(floor: Int = 0, answered: (step: String, approve: Bool)? = nil) {
            state = Mutex((floor, answered))
        }
    }

    init(waiting: WaitingInputs, runs: RunManager, progress: Progress = Progress()) {
        self.waiting = waiting
        self.runs = runs
        self.progress = progress
    }

    func confirm(step: String, message: String, details: JSONValue) async throws -> Bool {
        // Every engine run names itself; only a caller outside the engine lands here.
        throw CancellationError()
    }

    func confirm(runID: String, step: String, message: String, details: JSONValue) async throws -> Bool {
        let answered = progress.state.withLock { state -> Bool? in
            defer { state.answered = nil }
            guard let answered = state.answered, answered.step == step else { return nil }
            return answered.approve
        }
        if let answered { return answered }
        // The question's `input.requested` event: the engine publishes it just before asking,
        // and the sinks get it a moment later; a retry streams what follows it.
        var seq = progress.state.withLock { $0.floor }
        if let record = runs.registry.run(id: runID) {
            for await event in record.events(after: seq) where event.type == .inputRequested && event.step == step {
                seq = event.seq
                break
            }
        }
        try Task.checkCancellation()
        progress.state.withLock { $0.floor = seq }
        let question = WaitingInputs.Question(
            runID: runID, step: step, message: message, details: details,
            nonce: UUID().uuidString.lowercased(), seq: seq)
        let runs = self.runs
        let timeout = waiting.timeout
        return try await waiting.ask(question) {
            _ = runs.registry.run(id: runID)?.cancel(reason: "nobody answered the input request within \(timeout)")
        }
    }
}
