import Dispatch
import Synchronization

/// Racing work against a deadline.
enum Timeouts {
    /// Runs `body`; `seconds` after it starts (when given), cancels it and throws `failure()`.
    ///
    /// The body runs in one task of its own, which an ``Alarm`` cancels when the time is up:
    /// no second task sleeps beside it, so a run or step waiting under a timeout costs one
    /// task, not two. The clock starts when the body does, so time spent waiting for a thread
    /// on a busy machine is not counted. Cancelling the caller cancels the body too.
    /// Not inlined: the wait would otherwise take room in its caller's frame.
    @inline(never)
    static func run<T: Sendable>(
        seconds: Double?, failure: () -> RunFailure, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        guard let seconds, seconds > 0 else { return try await body() }
        let alarm = Alarm(after: seconds)
        defer { alarm.disarm() }
        let task = Task {
            alarm.arm()
            return try await body()
        }
        alarm.onFire { task.cancel() }
        do {
            return try await withTaskCancellationHandler {
                try await task.value
            } onCancel: {
                task.cancel()
            }
        } catch {
            if alarm.hasFired { throw failure() }
            throw error
        }
    }
}

/// Calls an action once, a given time after it is armed, unless disarmed first. A dispatch
/// timer: waiting for it takes no task.
final class Alarm: Sendable {
    private struct State {
        var fired = false
        var action: (@Sendable () -> Void)?
    }

    private let seconds: Double
    private let timer: Timer
    private let state = Mutex(State())

    /// The timer source, which dispatch makes safe to use from any thread.
    private final class Timer: @unchecked Sendable {
        let source = DispatchSource.makeTimerSource(queue: .global())
    }

    init(after seconds: Double) {
        self.seconds = seconds
        timer = Timer()
        timer.source.setEventHandler { [weak self] in self?.fire() }
        // Active from the start (an inactive source must not be released), but not yet due.
        timer.source.schedule(deadline: .distantFuture)
        timer.source.resume()
    }

    /// Starts the countdown.
    func arm() {
        timer.source.schedule(deadline: .now() + seconds)
    }

    /// What to do when the time is up; done at once when it is up already.
    func onFire(_ action: @escaping @Sendable () -> Void) {
        let firedAlready = state.withLock { state in
            state.action = action
            return state.fired
        }
        if firedAlready { action() }
    }

    /// Whether the time ran out.
    var hasFired: Bool { state.withLock { $0.fired } }

    /// The action will not run from now on (unless it already has).
    func disarm() {
        timer.source.cancel()
    }

    private func fire() {
        let action = state.withLock { state in
            state.fired = true
            return state.action
        }
        action?()
    }
}
