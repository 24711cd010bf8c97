/// Work that must outlive the HTTP request that started it (an MCP POST whose client may
/// disconnect and resume), run as children of ``run()``'s task group.
final class JobQueue: Sendable {
    private let jobs: AsyncStream<@Sendable () async -> Void>
    private let continuation: AsyncStream<@Sendable () async -> Void>.Continuation

    init() {
        (jobs, continuation) = AsyncStream.makeStream(of: (@Sendable () async -> Void).self)
    }

    func enqueue(_ job: @escaping @Sendable () async -> Void) {
        continuation.yield(job)
    }

    /// Runs the jobs until the task is cancelled (which cancels every job) or ``close()``.
    func run() async {
        await withDiscardingTaskGroup { group in
            for await job in jobs {
                group.addTask { await job() }
            }
        }
    }

    func close() {
        continuation.finish()
    }
}
