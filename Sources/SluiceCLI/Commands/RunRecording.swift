import Foundation
import SluiceEngine
import SluiceJSON
import SluicePlan
import SluiceProviders
import SluiceRunLog
import SluiceStore

/// `sluice run`'s durable side: the run's record, event log and checkpoints in the store
/// (`SLUICE_HOME`), the provider calls it made, `--cache`, and `runs cancel` from elsewhere.
///
/// A new run gets its id here and is recorded before it starts; a resume (`runs resume ID`)
/// claims the stored run and continues its log and checkpoints.
struct RunRecording {
    /// The store; nil with `--no-store`.
    let store: OpenedStore?
    let runID: String
    /// The resumed run (nil for a new run).
    let resumed: PreparedResume?
    let ledger: RunCallLedger?
    let caching: ResponseCaching?

    /// The response cache a run uses: from `--cache` (`explicit`) or the plan's `cache` setting.
    struct Cache {
        var timeToLive: TimeInterval?
        var explicit: Bool
    }

    /// Opens the store and, for a resume, claims the run.
    ///
    /// - Throws: ``CLIError`` (exit 2) saying why: a locked or damaged store, an unknown run.
    static func open(enabled: Bool, resumeID: String?, cache: Cache?, storeOptions: StoreOptions) async throws -> RunRecording {
        let environment = ProcessInfo.processInfo.environment
        guard enabled || resumeID != nil else {
            if let cache {
                guard !cache.explicit else { throw CLIError.invalid("--cache needs the store; remove --no-store") }
                Terminal.error("note: the plan's cache setting is not used with --no-store")
            }
            return RunRecording(store: nil, runID: RunRecording.newRunID(), resumed: nil, ledger: nil, caching: nil)
        }
        do {
            let store = try await storeOptions.open(environment: environment)
            let caching = cache.map { ResponseCaching(cache: store, timeToLive: $0.timeToLive) }
            if let resumeID {
                let prepared = try await store.prepareResume(id: try await store.run(matching: resumeID).id)
                return RunRecording(store: store, runID: prepared.run.id, resumed: prepared, ledger: prepared.ledger, caching: caching)
            }
            let id = newRunID()
            return RunRecording(store: store, runID: id, resumed: nil, ledger: RunCallLedger(store: store, runID: id), caching: caching)
        } catch {
            throw CLIError.invalid(error.message + (resumeID == nil ? " (or run with --no-store)" : ""))
        }
    }

    static func newRunID() -> String {
        "run_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    }

    /// The providers, answering from the cache (`--cache`) and from the run's saved calls.
    func wrap(_ providers: RunEngine.Providers) -> RunEngine.Providers {
        var wrapped = providers
        if let caching {
            wrapped.model = caching.model(wrapped.model)
            wrapped.search = caching.search(wrapped.search)
        }
        if let ledger {
            wrapped.model = ledger.model(wrapped.model)
            wrapped.search = ledger.search(wrapped.search)
        }
        return wrapped
    }

    /// Records a new run (a resume is already recorded), then says where it is kept.
    func begin(plan: Plan, inputs: JSONValue, arguments: [String]) async throws {
        guard let store else { return }
        if let resumed {
            let hash = ContentHash.hex(of: plan.source.bytes)
            if hash != resumed.run.plan.contentHash {
                Terminal.error("warning: \(plan.source.path) changed since run \(runID) started; steps with checkpoints keep their saved outputs")
            }
            Terminal.error("resuming run \(runID) from seq \(resumed.state.nextSeq): \(resumed.state.checkpoints.count) step checkpoint(s), \(resumed.interruptedSteps) interrupted step(s) run again")
            return
        }
        let path = URL(fileURLWithPath: plan.source.path).standardizedFileURL.path
        let run = NewRun(
            id: runID, plan: PlanIdentity(name: plan.name, path: path, contentHash: ContentHash.hex(of: plan.source.bytes)),
            inputs: inputs, options: ["arguments": .array(arguments.map(JSONValue.string))])
        do {
            try await store.createRun(run)
        } catch {
            throw CLIError.invalid("\(error.message) (or run with --no-store)")
        }
        Terminal.error("run \(runID) (recorded in \(store.location))")
    }

    /// Runs the engine with the store's sink first, so every event is stored before the view
    /// shows it; a `sluice runs cancel` from another process cancels the run.
    func run(engine: RunEngine, plan: Plan, inputs: JSONValue, sinks: [any EventSink]) async -> (RunOutcome, StoreEventSink?) {
        guard let store else { return (await engine.run(plan: plan, inputs: inputs, sinks: sinks), nil) }
        let storeSink = StoreEventSink(store: store)
        let runID = self.runID
        let resume = resumed?.state
        // The run has its own task so the cancel watcher can cancel it; cancelling this task
        // (Ctrl-C) is forwarded to it.
        let runTask = Task { await engine.run(plan: plan, inputs: inputs, sinks: [storeSink] + sinks, resume: resume) }
        let outcome = await withTaskGroup(of: Void.self) { group in
            group.addTask {
                if await Self.waitForCancelRequest(store: store, runID: runID) { runTask.cancel() }
            }
            let outcome = await withTaskCancellationHandler {
                await runTask.value
            } onCancel: {
                runTask.cancel()
            }
            group.cancelAll()
            return outcome
        }
        return (outcome, storeSink)
    }

    /// Polls the store until the run's cancel flag is set (true) or the task is cancelled (false).
    private static func waitForCancelRequest(store: OpenedStore, runID: String) async -> Bool {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: .milliseconds(250))
                if try await store.isCancelRequested(id: runID) { return true }
            } catch is CancellationError {
                return false
            } catch {
                // A locked store only delays the check; the run itself reports store failures.
                continue
            }
        }
        return false
    }

    /// Writes what the store still lacks and reports anything that could not be recorded.
    func end(_ outcome: RunOutcome, sink: StoreEventSink?) async {
        guard let store else { return }
        if let sink, let error = await sink.flush() {
            Terminal.error("error: \(sink.unwritten.count) event(s) of run \(runID) could not be recorded: \(error.message)")
        }
        for failure in ledger?.failures ?? [] {
            Terminal.error("warning: a provider call was not saved (a resume would make it again): \(failure.message)")
        }
        if let caching, caching.hits + caching.misses > 0 {
            Terminal.error("cache: \(caching.hits) hit(s), \(caching.misses) miss(es)")
        }
        if outcome.status != .completed {
            Terminal.error("run \(runID) \(outcome.status.rawValue); continue it with: sluice runs resume \(runID)  (data in \(store.location))")
        }
    }
}

/// Durations as people write them: `90s`, `15m`, `12h`, `30d`.
enum DurationText {
    static func seconds(_ text: String, option: String) throws(CLIError) -> TimeInterval {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        guard let unit = text.last, let scale = units[unit], let value = Double(text.dropLast()), value >= 0 else {
            throw CLIError.invalid("\(option) '\(text)': expected a number and a unit s, m, h or d (e.g. 30d)")
        }
        return value * scale
    }
}
