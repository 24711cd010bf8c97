import Foundation
import HTTPTypes
import Hummingbird
import SluiceEngine
import SluiceJSON
import SluiceRunLog
import SluiceStore
import Synchronization

/// Runs this server no longer holds in memory — started before a restart, or by another
/// process sharing the store — answered from the durable store (see ``DurableRunExecutor``):
/// `GET /v1/runs/{id}` and `GET /v1/runs/{id}/events` (replay after `Last-Event-ID`, then
/// follow while the run goes on elsewhere).
extension SluiceHTTPServer {
    /// The store behind the run manager, as opened, when runs are recorded.
    var openedStore: OpenedStore? {
        mcp.runs.executor.durable?.opened
    }

    /// The runs of ``openedStore``.
    var durableStore: (any RunStore)? { openedStore?.runs }

    /// The stored run `id` when it belongs to `user` (nil for unknown or someone else's: a 404).
    func storedRun(id: String, user: String) async throws -> StoredRun? {
        guard let store = durableStore, let run = try await store.run(id: id), run.user == user else { return nil }
        return run
    }

    /// `DELETE /v1/runs/{id}` for a run this server does not hold: the store's cancel flag,
    /// which the process executing it (another replica) watches; a run whose process is gone
    /// is marked cancelled at once.
    func cancelStoredRun(id: String, user: String) async throws -> Response {
        guard let store = durableStore, let run = try await storedRun(id: id, user: user) else {
            throw ServerError(.notFound, "no such run")
        }
        guard !run.status.isFinished || run.status == .interrupted else {
            throw ServerError(.conflict, "the run has already ended (\(run.status.rawValue))")
        }
        let asked: StoredRun
        do {
            asked = try await store.requestCancel(id: id)
        } catch {
            throw ServerError(.serviceUnavailable, "the run could not be cancelled: \(error.message)")
        }
        let status: JSONValue = asked.status == .running ? "cancelling" : .string(asked.status.rawValue)
        return HTTPResponses.json(["run_id": .string(id), "status": status], status: .accepted)
    }

    /// The run as `GET /v1/runs/{id}` reports it, in the shape of ``RunRecord/summary``.
    static func summary(of run: StoredRun) -> JSONValue {
        var object: JSONObject = [
            "run_id": .string(run.id), "plan": .string(run.plan.name), "status": .string(run.status.rawValue),
            "created_at": .string(EventTime.iso8601(run.createdAt)),
        ]
        if let finished = run.finishedAt { object["finished_at"] = .string(EventTime.iso8601(finished)) }
        object["events"] = .integer(Int64(run.lastSeq))
        object["inputs"] = run.inputs
        if let result = run.result { object["result"] = result }
        if let error = run.error { object["error"] = error }
        if let billing = run.billing { object["billing"] = billing }
        if let usage = run.usage { object["usage"] = usage }
        return .object(object)
    }

    /// The stored events after `after` in seed 000's SSE; while the run is still running in a
    /// live process, new events follow as they are stored.
    func storedEventStream(_ run: StoredRun, after: Int, seed: SeedEvents) throws(ServerError) -> Response {
        guard let store = durableStore else { throw ServerError(.notFound, "no such run") }
        var headers = SSEBody.headers
        headers[HTTPField.Name("X-Run-Id")!] = run.id
        let feed = StoredEventFeed(
            store: store, wakeups: openedStore?.wakeups, runID: run.id, after: after, resumeWait: configuration.interruptedRunWait, safetyPoll: configuration.storeFollowPoll)
        return Response(
            status: .ok, headers: headers,
            body: SSEBody.make(AsyncStream(unfolding: { await feed.next() }), heartbeat: configuration.heartbeatInterval) {
                seed.event(for: $0).bytes
            }
        )
    }
}

/// Pages through a run's stored log, polling while the run goes on in another process (or
/// in this one, resumed after a restart).
///
/// With wake-ups, one read per wake-up: after a page of new events (short of a full page,
/// and not the run's end) the feed waits for the next wake-up counted since that read began,
/// instead of reading again and then the run's status — a wake-up that came meanwhile ends
/// the wait at once, and the run's status is read only when a read finds nothing.
final class StoredEventFeed: Sendable {
    let store: any RunStore
    let runID: String
    /// How long an interrupted run is waited for: a server resumes its interrupted runs when it
    /// starts, and a client may come back before the run is taken up again.
    let resumeWait: Duration
    /// With a store that sends wake-ups, how long a follower waits for one before it reads
    /// the log anyway (a safety net for a lost notification); else it polls every 200 ms.
    let safetyPoll: Duration
    private let wakeups: (any RunEventWakeups)?
    private let state: Mutex<State>
    /// Events per read.
    private static let pageSize = 1000

    private struct State {
        var buffer: [RunEvent] = []
        var last: Int
        var done = false
        var interruptedSince: ContinuousClock.Instant?
        /// The wake-up count before the last read, when that read brought new events of a
        /// running run and was not a full page: the next read waits for a later wake-up.
        var caughtUpAt: Int?
    }

    /// - Parameter wakeups: the store's wake-ups, when it sends them (else the feed polls).
    init(
        store: any RunStore, wakeups: (any RunEventWakeups)?, runID: String, after: Int, resumeWait: Duration = .zero,
        safetyPoll: Duration = .seconds(2)
    ) {
        self.store = store
        self.runID = runID
        self.resumeWait = resumeWait
        self.safetyPoll = safetyPoll
        self.wakeups = wakeups
        state = Mutex(State(last: after))
        _ = wakeups?.watchEvents(runID: runID)
    }

    deinit {
        wakeups?.unwatchEvents(runID: runID)
    }

    /// The next event, or nil at the end of the log of a run that no longer runs (or on a
    /// store error or cancellation: the client can reconnect with `Last-Event-ID`).
    func next() async -> RunEvent? {
        while true {
            let (ready, last, done, caughtUpAt) = state.withLock { state -> (RunEvent?, Int, Bool, Int?) in
                if !state.buffer.isEmpty { return (state.buffer.removeFirst(), state.last, state.done, nil) }
                return (nil, state.last, state.done, state.caughtUpAt)
            }
            if let ready { return ready }
            if done { return nil }
            do {
                if let wakeups, let caughtUpAt {
                    await wakeups.waitForEvents(runID: runID, seen: caughtUpAt, timeout: safetyPoll)
                    try Task.checkCancellation()
                    state.withLock { $0.caughtUpAt = nil }
                }
                // Read before the log: a wake-up for what the read misses ends the wait at once.
                let seen = wakeups?.eventGeneration(runID: runID)
                let readAt = EventTimesLog.shared == nil ? 0 : Date().timeIntervalSince1970
                let page = try await store.events(runID: runID, after: last, limit: Self.pageSize)
                if let end = page.last {
                    EventTimesLog.shared?.read(page, woken: readAt)
                    state.withLock { state in
                        state.buffer = page
                        state.last = end.seq
                        state.caughtUpAt = page.count < Self.pageSize && !end.type.endsRun ? seen : nil
                    }
                    continue
                }
                guard let run = try await store.run(id: runID), run.status == .running || waitsForResume(run.status) else {
                    // Its end may have been stored between the two reads: the log once more.
                    let rest = try await store.events(runID: runID, after: last, limit: nil)
                    state.withLock { state in
                        state.buffer = rest
                        state.last = rest.last?.seq ?? state.last
                        state.done = true
                    }
                    continue
                }
                if let wakeups, let seen {
                    await wakeups.waitForEvents(runID: runID, seen: seen, timeout: run.status == .running ? safetyPoll : .milliseconds(200))
                    try Task.checkCancellation()
                } else {
                    try await Task.sleep(for: .milliseconds(200))
                }
            } catch {
                state.withLock { $0.done = true }
                return nil
            }
        }
    }

    /// Whether an `interrupted` run is still given time to be resumed.
    private func waitsForResume(_ status: StoredRunStatus) -> Bool {
        let now = ContinuousClock.now
        return state.withLock { state in
            guard status == .interrupted else {
                state.interruptedSince = nil
                return false
            }
            let since = state.interruptedSince ?? now
            state.interruptedSince = since
            return now - since < resumeWait
        }
    }
}
