import Foundation
public import SluiceRunLog
public import SluiceStore

/// A finished run's log in the durable store, read back for a ``RunRecord`` that let its
/// events go when the run ended (see ``DurableRunExecutor/completeLog(runID:through:)``).
public struct StoredLog: Sendable {
    public let store: any RunStore
    public let runID: String
    /// The most events read at once, so a long log is never all in memory for one reader.
    public let pageSize: Int

    public init(store: any RunStore, runID: String, pageSize: Int = 500) {
        self.store = store
        self.runID = runID
        self.pageSize = max(1, pageSize)
    }

    /// Yields the stored events after `after` into `continuation`, then finishes it. The reads
    /// stop when the consumer goes away; a store error ends the stream early (reported on
    /// stderr), and the client can reconnect from the last event it got, as with
    /// ``StoredEventFeed``.
    func replay(after: Int, into continuation: AsyncStream<RunEvent>.Continuation) {
        let store = store, runID = runID, pageSize = pageSize
        let reading = Task {
            var last = after
            do throws(StoreError) {
                while !Task.isCancelled {
                    let page = try await store.events(runID: runID, after: last, limit: pageSize)
                    for event in page { continuation.yield(event) }
                    guard let end = page.last, page.count == pageSize else { break }
                    last = end.seq
                }
            } catch {
                FileHandle.standardError.write(Data("sluice serve: the events of run \(runID) after seq \(last) could not be read back: \(error.message)\n".utf8))
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in reading.cancel() }
    }
}

extension DurableRunExecutor {
    /// The run's stored log when the store holds every event up to `seq` and records the run
    /// as ended (completed, failed or cancelled); nil otherwise — some events unwritten, the
    /// run parked or handed to another replica, or the store unreadable — and then the
    /// record keeps its events.
    public func completeLog(runID: String, through seq: Int) async -> StoredLog? {
        guard let run = try? await store.run(id: runID), run.lastSeq >= seq,
            [StoredRunStatus.completed, .failed, .cancelled].contains(run.status)
        else { return nil }
        return StoredLog(store: store, runID: runID)
    }
}
