import Dispatch
import Synchronization

/// Racing work against a deadline.
enum Timeouts {
    /// Runs `body`; after `seconds` (when given) cancels it and throws `failure()`.
    ///
    /// The body runs in one task of its own, which an ``Alarm`` cancels when the time is up:
    /// no second task sleeps beside it, so a run or step waiting under a timeout costs one
    /// task, not two. Cancelling the caller cancels the body too.
    /// Not inlined: the wait would otherwise take room in its caller's frame.
    @inline(never)
    static func run<T: Sendable>(
        seconds: Double?, failure: () -> RunFailure, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        guard let seconds, seconds > 0 else { return try await body() }
        let task = Task { try await body() }
        let alarm = Alarm(after: seconds) { task.cancel() }
        defer { alarm.disarm() }
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

/// Calls an action once after a delay unless disarmed first; a dispatch timer, so waiting for
/// it takes no task.
final class Alarm: @unchecked Sendable {
    // @unchecked: the timer source is only scheduled here and cancelled in `disarm`, both
    // thread-safe dispatch calls; `fired` is atomic.
    private let source: any DispatchSourceTimer
    private let fired = Atomic<Bool>(false)

    init(after seconds: Double, action: @escaping @Sendable () -> Void) {
        source = DispatchSource.makeTimerSource(queue: .global())
        source.schedule(deadline: .now() + seconds)
        source.setEventHandler { [weak self] in
            guard let self else { return }
            fired.store(true, ordering: .sequentiallyConsistent)
            action()
        }
        source.resume()
    }

    /// Whether the action ran (or is running).
    var hasFired: Bool { fired.load(ordering: .sequentiallyConsistent) }

    /// The action will not run from now on (unless it already has).
    func disarm() {
        source.cancel()
    }
}
