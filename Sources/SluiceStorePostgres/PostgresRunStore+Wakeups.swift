import Foundation
import PostgresNIO
public import SluiceStore
import Synchronization

/// Wake-ups for followers of runs executing on other replicas: every round of appends NOTIFYs
/// ``PostgresRunStore/eventsChannel`` with the ids of its runs, one per line (nothing else: a
/// payload must stay under PostgreSQL's 8000 bytes, so a big round sends several), and one
/// connection per store LISTENs once a follower watches.
///
/// A follower ``watchEvents(runID:)``, reads the log, and if it has nothing new calls
/// ``waitForEvents(runID:seen:timeout:)`` with the generation it read before: it returns at
/// the next notification of that run or after `timeout` (the caller's safety-net poll, for a
/// notification lost while the listening connection was being re-established).
extension PostgresRunStore {
    /// The channel appends notify.
    public static let eventsChannel = "sluice_events"
    /// The payload of ``releaseLeases()``'s notification (no run has an empty id): watched
    /// like a run id by takeover loops, so handed-back runs are taken over at once.
    public static let handBackKey = ""

    /// Starts counting notifications of `runID` (and listening, the first time); returns the
    /// current generation. Pair with ``unwatchEvents(runID:)``.
    public func watchEvents(runID: String) -> Int {
        startListening()
        return wakeups.watch(runID)
    }

    public func unwatchEvents(runID: String) {
        wakeups.unwatch(runID)
    }

    /// How many notifications of `runID` arrived since it was first watched.
    public func eventGeneration(runID: String) -> Int {
        wakeups.generation(runID)
    }

    /// Returns once `runID`'s generation differs from `seen` (at once if it already does), after
    /// `timeout`, or when the task is cancelled.
    public func waitForEvents(runID: String, seen: Int, timeout: Duration) async {
        let wakeups = self.wakeups
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await wakeups.wait(runID, seen: seen) }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    /// One connection LISTENs for the store's life, reconnecting after a failure; each
    /// reconnection wakes every follower, since notifications may have been missed meanwhile.
    private func startListening() {
        let client = self.client
        let wakeups = self.wakeups
        listener.withLock { listener in
            guard listener == nil else { return }
            listener = Task.detached {
                while !Task.isCancelled {
                    do {
                        try await client.withConnection { connection in
                            try await connection.listen(on: PostgresRunStore.eventsChannel) { notifications in
                                wakeups.wakeAll()
                                for try await notification in notifications {
                                    // A round of appends names its runs one per line.
                                    for key in notification.payload.split(separator: "\n", omittingEmptySubsequences: false) {
                                        wakeups.notify(String(key))
                                    }
                                }
                            }
                        }
                    } catch {
                        // Followers keep their safety-net poll; listening is tried again.
                    }
                    do { try await Task.sleep(for: .seconds(1)) } catch { return }
                }
            }
        }
    }
}

/// Per watched run: how many notifications came, and who waits for the next.
final class EventWakeups: Sendable {
    private struct Entry {
        var generation = 0
        var watchers = 0
        var waiters: [UUID: CheckedContinuation<Void, Never>] = [:]
    }
    private let entries = Mutex<[String: Entry]>([:])

    func watch(_ runID: String) -> Int {
        entries.withLock { entries in
            entries[runID, default: Entry()].watchers += 1
            return entries[runID]!.generation
        }
    }

    func unwatch(_ runID: String) {
        let waiters = entries.withLock { entries -> [CheckedContinuation<Void, Never>] in
            guard var entry = entries[runID] else { return [] }
            entry.watchers -= 1
            guard entry.watchers <= 0 else {
                entries[runID] = entry
                return []
            }
            entries[runID] = nil
            return Array(entry.waiters.values)
        }
        waiters.forEach { $0.resume() }
    }

    func generation(_ runID: String) -> Int {
        entries.withLock { $0[runID]?.generation ?? 0 }
    }

    func notify(_ runID: String) {
        let waiters = entries.withLock { entries -> [CheckedContinuation<Void, Never>] in
            guard var entry = entries[runID] else { return [] }
            entry.generation += 1
            let waiting = Array(entry.waiters.values)
            entry.waiters = [:]
            entries[runID] = entry
            return waiting
        }
        waiters.forEach { $0.resume() }
    }

    func wakeAll() {
        for runID in entries.withLock({ Array($0.keys) }) { notify(runID) }
    }

    func wait(_ runID: String, seen: Int) async {
        let id = UUID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = entries.withLock { entries -> Bool in
                    guard var entry = entries[runID], entry.generation == seen, !Task.isCancelled else { return true }
                    entry.waiters[id] = continuation
                    entries[runID] = entry
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let waiter = entries.withLock { $0[runID]?.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }
}

/// Appends wake the followers of their run on every replica (LISTEN/NOTIFY).
extension PostgresRunStore: RunEventWakeups {}

/// Runs are leased to their process; a stopping server gives them back (``releaseLeases()``).
extension PostgresRunStore: RunLeases {}

extension OpenedStore {
    /// The shared store: every capability (runs, cached responses, MCP sessions, wake-ups, leases, the run queue).
    public init(_ store: PostgresRunStore) {
        self.init(runs: store, cache: store, mcpSessions: store, wakeups: store, leases: store, queue: store)
    }
}
