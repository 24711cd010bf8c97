import Foundation
import SluiceJSON
import SluiceRunLog
import SluiceStore
import SluiceTesting
import Testing

/// Both stores: a run parked at a question its caller answers by retrying (`waiting`) — owned
/// by nobody, claimed once by whoever brings the answer, cancellable, never pruned or
/// mistaken for an interrupted run.
@Suite struct WaitingRunTests {
    static let question = PendingInput(seq: 3, step: "approve_outline", message: "Approve the outline?", details: ["sections": ["a", "b"]])

    /// A run of this process with three events, the last its question, parked at it.
    static func parked(_ store: TestedStore, _ id: String) async throws {
        try await store.createRun(StoreHarness.newRun(id))
        try await store.append(StoreHarness.events(id, count: 2))
        try await store.append([RunEvent(seq: 3, runID: id, time: Date(), type: .inputRequested, step: "approve_outline", data: ["message": "Approve the outline?"])])
        try await store.releaseWaiting(id: id, question: question)
    }

    @Test(arguments: StoreBackend.all) func aParkedRunWaitsOwnedByNobodyAndAnotherProcessClaimsItOnce(backend: StoreBackend) async throws {
        let temporary = try await TemporaryStore(backend)
        defer { temporary.remove() }
        let store = temporary.store
        try await Self.parked(store, "asks")
        let waiting = try #require(try await store.run(id: "asks"))
        #expect(waiting.status == .waiting)
        #expect(waiting.owner == nil)
        #expect(waiting.pendingInput == Self.question)
        #expect(!waiting.status.isFinished && !waiting.status.isResumable, "not over, and not for sluice runs resume")
        #expect(try await store.runs(RunFilter(status: .waiting)).map(\.id) == ["asks"])
        #expect(try await store.runs(RunFilter(status: .interrupted)).isEmpty, "nobody takes it over without the answer")
        #expect(try await store.runs(RunFilter(status: .running)).isEmpty)

        // Another live process (another host) brings the answer: it claims the run, once.
        let other = try await temporary.opening(owner: "\(ProcessInfo.processInfo.processIdentifier)@another-host")
        let claimed = try await other.claimForResume(id: "asks", expecting: nil)
        #expect(claimed.status == .running && claimed.resumes == 1 && claimed.pendingInput == nil)
        await #expect(throws: StoreError.self) { try await store.claimForResume(id: "asks", expecting: nil) }
        // Its log goes on with the next seq.
        try await other.append(StoreHarness.events("asks", from: 4, count: 2, end: .runCompleted))
        #expect(try await store.run(id: "asks")?.status == .completed)
        #expect(try await store.events(runID: "asks", after: 0, limit: nil).map(\.seq) == [1, 2, 3, 4, 5])
    }

    /// An answer claims the run only while it waits: one cancelled between the answer's
    /// arrival and its claim stays cancelled (an explicit resume may still continue it).
    @Test(arguments: StoreBackend.all) func anAnswerNeverResumesARunCancelledMeanwhile(backend: StoreBackend) async throws {
        let temporary = try await TemporaryStore(backend)
        defer { temporary.remove() }
        let store = temporary.store
        try await Self.parked(store, "asks")
        #expect(try await store.requestCancel(id: "asks").status == .cancelled)
        do {
            _ = try await store.claimForResume(id: "asks", expecting: .waiting)
            Issue.record("a cancelled run was claimed for an answer")
        } catch {
            #expect(error.code == .conflict)
            #expect(error.message.contains("cancelled"), "\(error.message)")
        }
        let after = try #require(try await store.run(id: "asks"))
        #expect(after.status == .cancelled && after.resumes == 0)
        #expect(try await store.claimForResume(id: "asks", expecting: nil).status == .running, "sluice runs resume still may")
    }

    @Test(arguments: StoreBackend.all) func onlyARunningRunOfThisProcessCanBeParked(backend: StoreBackend) async throws {
        let temporary = try await TemporaryStore(backend)
        defer { temporary.remove() }
        let store = temporary.store
        do {
            try await store.releaseWaiting(id: "nobody", question: Self.question)
            Issue.record("an unknown run was parked")
        } catch {
            #expect(error.code == .notFound)
        }
        try await store.createRun(StoreHarness.newRun("done"))
        try await store.append(StoreHarness.events("done", count: 2, end: .runCompleted))
        let other = try await temporary.opening(owner: "\(ProcessInfo.processInfo.processIdentifier)@another-host")
        try await other.createRun(StoreHarness.newRun("theirs"))
        try await Self.parked(store, "twice")
        for id in ["done", "theirs", "twice"] {
            do {
                try await store.releaseWaiting(id: id, question: Self.question)
                Issue.record("run \(id) was parked")
            } catch {
                #expect(error.code == .conflict, "\(id): \(error.message)")
            }
        }
        #expect(try await store.run(id: "done")?.status == .completed)
        #expect(try await store.run(id: "theirs")?.status == .running)
    }

    @Test(arguments: StoreBackend.all) func cancellingAWaitingRunEndsItsLogAndPruneKeepsWaitingRuns(backend: StoreBackend) async throws {
        let temporary = try await TemporaryStore(backend)
        defer { temporary.remove() }
        let store = temporary.store
        try await Self.parked(store, "kept")
        #expect(try await store.deleteRuns(finishedBefore: Date().addingTimeInterval(60)) == 0, "a waiting run has not finished")
        #expect(try await store.run(id: "kept")?.status == .waiting)

        try await Self.parked(store, "dropped")
        let cancelled = try await store.requestCancel(id: "dropped")
        #expect(cancelled.status == .cancelled && cancelled.pendingInput == nil)
        let log = try await store.events(runID: "dropped", after: 0, limit: nil)
        #expect(log.map(\.seq) == [1, 2, 3, 4])
        #expect(log.last?.type == .runCancelled)
        #expect(log.last?.data["reason"]?.stringValue?.contains("waited for its caller's answer") == true)
        await #expect(throws: StoreError.self) { try await store.releaseWaiting(id: "dropped", question: Self.question) }
    }
}
