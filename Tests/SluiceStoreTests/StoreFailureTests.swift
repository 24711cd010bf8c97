import Foundation
import GRDB
import SluiceEngine
import SluiceJSON
import SluiceRunLog
import SluiceStore
import Testing

/// A locked or damaged database gives a clear error, never a silent loss; several stores
/// (processes) share one file.
@Suite struct StoreFailureTests {
    @Test func aDamagedFileIsReportedAsCorrupt() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-corrupt-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer {
            do { try FileManager.default.removeItem(atPath: folder) } catch { print("could not remove \(folder): \(error)") }
        }
        try Data(repeating: 0x5a, count: 8192).write(to: URL(fileURLWithPath: folder + "/runs.sqlite"))
        do {
            _ = try SQLiteRunStore(home: folder)
            Issue.record("a damaged file opened")
        } catch {
            #expect(error.code == .corrupt)
            #expect(error.message.contains("runs.sqlite"))
            #expect(error.message.contains("move it aside"))
        }
    }

    @Test func aWriteThatWaitsPastTheBusyTimeoutFailsAsLockedAndWritesNothing() async throws {
        let temporary = try await TemporaryStore(.sqlite, busyTimeout: 0.2)
        defer { temporary.remove() }
        let store = temporary.store
        try await store.createRun(StoreHarness.newRun("r1"))
        // Another "process" holds the write lock, on its own thread, until the test releases it.
        let other = try DatabaseQueue(path: temporary.databasePath)
        let locked = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let released = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            do {
                try other.inTransaction(.immediate) { _ in
                    locked.signal()
                    release.wait()
                    return .rollback
                }
            } catch {
                Issue.record("the lock holder failed: \(error)")
            }
            released.signal()
        }
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                locked.wait()
                continuation.resume()
            }
        }
        do {
            try await store.append(StoreHarness.events("r1", count: 3))
            Issue.record("a write went through a held lock")
        } catch {
            #expect(error.code == .locked)
            #expect(error.message.contains("locked by another process"))
        }
        // The sink keeps what it could not write and writes it once the lock is released.
        let sink = StoreEventSink(store: store)
        await sink.receive(batch: StoreHarness.events("r1", count: 2))
        #expect(sink.unwritten.count == 2)
        #expect(sink.unwritten.error?.code == .locked)
        release.signal()
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                released.wait()
                continuation.resume()
            }
        }
        await sink.receive(batch: StoreHarness.events("r1", from: 3, count: 1))
        #expect(sink.unwritten.count == 0)
        #expect(try await store.events(runID: "r1", after: 0, limit: nil).map(\.seq) == [1, 2, 3])
    }

    /// An append whose COMMIT went through though its answer was lost (a connection dropped
    /// after the commit) is retried by the sink: the retry finds its own events stored as sent
    /// and counts them as written instead of failing as a `conflict` for ever; other events
    /// at those `seq`s stay a conflict.
    @Test(arguments: StoreBackend.all) func aRetryOfEventsAlreadyStoredIsNotAConflict(backend: StoreBackend) async throws {
        let temporary = try await TemporaryStore(backend)
        defer { temporary.remove() }
        let store = temporary.store
        try await store.createRun(StoreHarness.newRun("r1"))
        let batch = StoreHarness.events("r1", count: 3)
        // The first attempt: stored, its answer lost.
        try await store.append(batch)
        let sink = StoreEventSink(store: store)
        await sink.receive(batch: batch)
        #expect(sink.unwritten.count == 0, "\(String(describing: sink.unwritten.error))")
        // A retry that carries its lost batch and a new one: the new one is written.
        let next = StoreHarness.events("r1", from: 4, count: 2)
        await sink.receive(batch: next)
        #expect(sink.unwritten.count == 0)
        #expect(sink.writtenCount == 5)
        #expect(try await store.events(runID: "r1", after: 0, limit: nil).map(\.seq) == [1, 2, 3, 4, 5])

        // Someone else's events at those seqs are a real conflict.
        let other = StoreEventSink(store: store)
        var altered = next
        altered[1].data = ["text": "not what was stored"]
        await other.receive(batch: altered)
        #expect(other.unwritten.count == 1)
        #expect(other.unwritten.error?.code == .conflict)
        #expect(try await store.events(runID: "r1", after: 0, limit: nil).count == 5)
    }

    /// Reads made in a cancelled task are answered, as writes are: callers decide things in
    /// them (whether a run parked as its task was cancelled has a cancel request, whether a
    /// retried append was stored) and a refusal would lose or wrongly refuse that.
    @Test(arguments: StoreBackend.all) func readsAreAnsweredInACancelledTask(backend: StoreBackend) async throws {
        let temporary = try await TemporaryStore(backend)
        defer { temporary.remove() }
        let store = temporary.store
        try await store.createRun(StoreHarness.newRun("r1"))
        try await store.append(StoreHarness.events("r1", count: 2))
        _ = try await store.requestCancel(id: "r1")
        let reading = Task { () async throws -> (StoredRun?, [RunEvent], Bool, [StoredRun]) in
            withUnsafeCurrentTask { $0?.cancel() }
            #expect(Task.isCancelled)
            return (
                try await store.run(id: "r1"), try await store.events(runID: "r1", after: 0, limit: nil),
                try await store.isCancelRequested(id: "r1"), try await store.runs(RunFilter())
            )
        }
        let (run, events, requested, runs) = try await reading.value
        #expect(run?.id == "r1")
        #expect(events.map(\.seq) == [1, 2])
        #expect(requested)
        #expect(runs.map(\.id) == ["r1"])
    }

    @Test(arguments: StoreBackend.all) func severalStoresOnOneFileWriteConcurrentlyWithoutLoss(backend: StoreBackend) async throws {
        let temporary = try await TemporaryStore(backend)
        defer { temporary.remove() }
        let stores = try await [temporary.opening(), temporary.opening(), temporary.opening(), temporary.opening()]
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, store) in stores.enumerated() {
                group.addTask {
                    let id = "run\(index)"
                    try await store.createRun(StoreHarness.newRun(id))
                    for batch in 0..<20 {
                        try await store.append(StoreHarness.events(id, from: batch * 50 + 1, count: 50))
                    }
                }
            }
            try await group.waitForAll()
        }
        for index in 0..<4 {
            let events = try await temporary.store.events(runID: "run\(index)", after: 0, limit: nil)
            #expect(events.map(\.seq) == Array(1...1000))
        }
    }

    /// Replicas starting at once on a new file or database: each opens (migrating it once).
    @Test(arguments: StoreBackend.all) func storesOpeningANewStoreAtOnceAllSucceed(backend: StoreBackend) async throws {
        let location = try await backend.freshLocation()
        defer {
            if backend == .sqlite {
                let folder = (location as NSString).deletingLastPathComponent
                do { try FileManager.default.removeItem(atPath: folder) } catch { print("could not remove \(folder): \(error)") }
            }
        }
        let opened = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<6 {
                group.addTask {
                    let store = try await backend.open(location)
                    try await store.createRun(StoreHarness.newRun("run\(index)"))
                    return 1
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(opened == 6)
        #expect(try await backend.open(location).runs(RunFilter()).count == 6)
    }
}
