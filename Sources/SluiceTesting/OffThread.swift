public import Foundation

/// Blocking waits for test helpers (a child process's pipes and exit), done on a thread of
/// their own: swift-testing runs tests in parallel on Swift's cooperative pool, which has one
/// thread per core, so a helper that blocks one of those threads while `sluice` runs starves
/// every other test (and the in-process servers they talk to) on a small machine.
public enum OffThread {
    /// Runs blocking `work` on a new thread and resumes the caller with its result.
    public static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
        }
    }

    /// Runs blocking `work` that cannot throw on a new thread.
    public static func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: work()) }
        }
    }

    /// Waits, off the cooperative pool, until `process` has ended; returns its termination status.
    @discardableResult
    public static func waitForExit(_ process: Process) async -> Int32 {
        let box = UncheckedProcess(process)
        return await run {
            box.process.waitUntilExit()
            return box.process.terminationStatus
        }
    }
}

/// `Process` is not `Sendable`, but waiting for it and reading its status from another thread
/// is what Foundation's `Process` supports.
private struct UncheckedProcess: @unchecked Sendable {
    let process: Process
    init(_ process: Process) { self.process = process }
}
