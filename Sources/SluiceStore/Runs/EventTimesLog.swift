public import Foundation
public import SluiceRunLog
import Synchronization

/// For `make bench-store` only: where an event's time goes between replicas. When
/// `SLUICE_BENCH_EVENT_TIMES` names a file, the PostgreSQL store writes a line per event it
/// committed and the server a line per event it read from the store for a follower; the
/// benchmark joins them with what its clients parsed. Unset (always, outside the benchmark),
/// ``shared`` is nil and nothing is measured.
///
/// Lines, times in seconds since 1970:
/// - `stored RUN SEQ PUBLISHED QUEUED BEGAN COMMITTED`: published by the engine; handed to the
///   store's writer; its round began; its round committed.
/// - `read RUN SEQ WOKEN READ`: the follower's wait for a wake-up ended (or its read began, when
///   it did not wait); its read of the log returned.
public final class EventTimesLog: Sendable {
    /// The log `SLUICE_BENCH_EVENT_TIMES` names, opened for appending; nil when unset.
    public static let shared: EventTimesLog? = ProcessInfo.processInfo.environment["SLUICE_BENCH_EVENT_TIMES"].flatMap(EventTimesLog.init(path:))

    private let handle: Mutex<FileHandle>

    init?(path: String) {
        guard !path.isEmpty else { return nil }
        if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
        guard let handle = FileHandle(forWritingAtPath: path) else { return nil }
        handle.seekToEndOfFile()
        self.handle = Mutex(handle)
    }

    /// A committed round: each append's events with the time it was handed over.
    public func stored(_ appends: [(events: [RunEvent], queuedAt: Double)], began: Double) {
        let committed = Date().timeIntervalSince1970
        var text = ""
        for (events, queuedAt) in appends {
            for event in events {
                text += "stored \(event.runID) \(event.seq) \(event.time.timeIntervalSince1970) \(queuedAt) \(began) \(committed)\n"
            }
        }
        write(text)
    }

    /// A follower's read of `events`.
    public func read(_ events: [RunEvent], woken: Double) {
        let done = Date().timeIntervalSince1970
        write(events.map { "read \($0.runID) \($0.seq) \(woken) \(done)\n" }.joined())
    }

    private func write(_ text: String) {
        guard !text.isEmpty else { return }
        handle.withLock { $0.write(Data(text.utf8)) }
    }
}
