import Dispatch
import Foundation
import SluiceEngine
import Synchronization

/// Runs a plan so that Ctrl-C cancels it cleanly: the first SIGINT cancels the run (which
/// ends with `run.cancelled` and exit 130); a second one exits at once.
enum InterruptibleRun {
    private final class Presses: Sendable {
        let count = Mutex(0)
    }

    static func run<Outcome: Sendable>(_ body: @escaping @Sendable () async -> Outcome) async -> Outcome {
        let task = Task { await body() }
        let presses = Presses()
        // The signal is handled on a dispatch queue, not by a C handler, so it can cancel the task.
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler {
            let count = presses.count.withLock { count in
                count += 1
                return count
            }
            if count == 1 {
                FileHandle.standardError.write(Data("\ncancelling… (press Ctrl-C again to quit at once)\n".utf8))
                task.cancel()
            } else {
                exit(ExitStatus.cancelled)
            }
        }
        source.resume()
        let outcome = await task.value
        source.cancel()
        signal(SIGINT, SIG_DFL)
        return outcome
    }
}
