public import SluiceEngine
public import SluiceRunLog
import SluiceJSON
import SluiceStore
import Synchronization

/// The answer a caller's retry brought (MCP 2026-07-28 `inputResponses`, or `tasks/update`)
/// for the question a waiting run stopped at.
public struct RetryAnswer: Sendable, Hashable {
    /// The `confirm` step asked.
    public var step: String
    public var approve: Bool

    public init(step: String, approve: Bool) {
        self.step = step
        self.approve = approve
    }
}

/// How one execution of a run that answers by retry ends at a question: the question's
/// `input.requested` is stored, then the execution is released — no later event is recorded
/// (not even the `run.cancelled` its cancellation makes), its task is cancelled, and
/// ``DurableRunExecutor`` parks the run in the store as `waiting`.
///
/// The log therefore ends at (or shortly after) the question, a gapless prefix the resume
/// continues with the next `seq`, exactly as a takeover continues a killed replica's run.
final class WaitRelease: Sendable {
    private struct State {
        /// The `input.requested` events recorded so far, by step, in order (a step in a loop
        /// asks more than once).
        var asked: [String: [PendingInput]] = [:]
        /// How many times each step has asked the channel so far.
        var calls: [String: Int] = [:]
        var waiters: [String: [(index: Int, continuation: CheckedContinuation<PendingInput?, Never>)]] = [:]
        var released: PendingInput?
        var cancelExecution: (@Sendable () -> Void)?
    }

    private let state = Mutex(State())

    /// The question the execution was released at, once it was.
    var question: PendingInput? { state.withLock { $0.released } }

    /// Sets what cancels the execution when it is released.
    func onRelease(_ cancel: @escaping @Sendable () -> Void) {
        state.withLock { $0.cancelExecution = cancel }
    }

    /// `sink`, cut off once the execution is released.
    func gate(_ sink: any EventBatchSink) -> any EventBatchSink {
        ReleaseGate(release: self, downstream: sink)
    }

    /// Called by the gate once a batch is stored and delivered: its questions are recorded.
    fileprivate func delivered(_ batch: [RunEvent]) {
        var ready: [(CheckedContinuation<PendingInput?, Never>, PendingInput)] = []
        state.withLock { state in
            for event in batch where event.type == .inputRequested {
                guard let step = event.step else { continue }
                let question = PendingInput(
                    seq: event.seq, step: step, message: event.data["message"]?.stringValue ?? "Continue with step '\(step)'?",
                    details: event.data["details"] ?? .null)
                state.asked[step, default: []].append(question)
                let count = state.asked[step, default: []].count
                let waiting = state.waiters.removeValue(forKey: step) ?? []
                for waiter in waiting {
                    if waiter.index < count {
                        ready.append((waiter.continuation, state.asked[step, default: []][waiter.index]))
                    } else {
                        state.waiters[step, default: []].append(waiter)
                    }
                }
            }
        }
        for (waiter, question) in ready { waiter.resume(returning: question) }
    }

    var isReleased: Bool { state.withLock { $0.released != nil } }

    /// Counts one question of `step` reaching the channel; returns its index among them.
    func nextCall(step: String) -> Int {
        state.withLock { state in
            defer { state.calls[step, default: 0] += 1 }
            return state.calls[step, default: 0]
        }
    }

    /// The `index`-th recorded question of `step` (its `input.requested` is in the store); nil
    /// when the execution is cancelled first.
    func recorded(step: String, index: Int) async -> PendingInput? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let found = state.withLock { state -> PendingInput?? in
                    if let asked = state.asked[step], index < asked.count { return .some(asked[index]) }
                    if Task.isCancelled { return .some(nil) }
                    state.waiters[step, default: []].append((index, continuation))
                    return nil
                }
                if let found { continuation.resume(returning: found) }
            }
        } onCancel: {
            let waiters = state.withLock { $0.waiters.removeValue(forKey: step) ?? [] }
            for waiter in waiters { waiter.continuation.resume(returning: nil) }
        }
    }

    /// Ends the execution at `question`: nothing more is recorded, and its task is cancelled.
    func release(at question: PendingInput) {
        let cancel = state.withLock { state -> (@Sendable () -> Void)? in
            guard state.released == nil else { return nil }
            state.released = question
            return state.cancelExecution
        }
        cancel?()
    }
}

/// Drops every batch once the execution is released; tells the release what was recorded.
private struct ReleaseGate: EventBatchSink {
    let release: WaitRelease
    let downstream: any EventBatchSink

    func receive(batch: [RunEvent]) async {
        guard !release.isReleased else { return }
        await downstream.receive(batch: batch)
        release.delivered(batch)
    }
}

/// Answers the `confirm` steps of a run that answers by retry: the question the retry answered
/// (the first the resumed run asks again) gets that answer; any other question releases the
/// execution (see ``WaitRelease``), once its `input.requested` is stored.
final class RetryConfirmation: ConfirmationChannel {
    let release: WaitRelease
    let answer: Mutex<RetryAnswer?>

    init(release: WaitRelease, answer: RetryAnswer?) {
        self.release = release
        self.answer = Mutex(answer)
    }

    func confirm(step: String, message: String, details: JSONValue) async throws -> Bool {
        // Every engine run names itself; only a caller outside the engine lands here.
        throw CancellationError()
    }

    func confirm(runID: String, step: String, message: String, details: JSONValue) async throws -> Bool {
        let index = release.nextCall(step: step)
        let answered = answer.withLock { answer -> Bool? in
            guard let given = answer, given.step == step else { return nil }
            answer = nil
            return given.approve
        }
        if let answered { return answered }
        guard let question = await release.recorded(step: step, index: index) else { throw CancellationError() }
        release.release(at: question)
        throw CancellationError()
    }
}
