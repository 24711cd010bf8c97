import Foundation
import SluiceDurable
import SluiceEngine
import SluiceJSON
import SluicePlan
import SluiceProviders
import SluiceRunLog
import SluiceStore

/// `sluice run`'s durable side: the run's record, event log and checkpoints in the store
/// (`SLUICE_HOME`), the provider calls it made, `--cache`, and `runs cancel` from elsewhere —
/// composed by ``DurableRun``, as the server composes its runs; this adds the terminal's words.
///
/// A new run gets its id here and is recorded before it starts; a resume (`runs resume ID`)
/// claims the stored run and continues its log and checkpoints.
struct RunRecording {
    /// The run in the store; nil with `--no-store`.
    let durable: DurableRun?
    let runID: String
    /// Closes the store as the process ends (see ``StoreOptions/openForProcess(environment:)``).
    var closeStore: (@Sendable () -> Void)? = nil

    /// The resumed run (nil for a new run).
    var resumed: PreparedResume? { durable?.resumed }

    /// The response cache a run uses: from `--cache` (`explicit`) or the plan's `cache` setting.
    struct Cache {
        var timeToLive: TimeInterval?
        var explicit: Bool
    }

    /// How often a running run looks at the store's cancel flag (`sluice runs cancel`).
    static let cancelPollInterval = Duration.milliseconds(250)

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
            return RunRecording(durable: nil, runID: DurableRun.newRunID())
        }
        do {
            let (opened, close) = try await storeOptions.openForProcess(environment: environment)
            let setting = cache.map { CacheSetting(timeToLive: $0.timeToLive) }
            if let resumeID {
                let durable = try await DurableRun.resuming(id: try await opened.runs.run(matching: resumeID).id, store: opened, cache: setting)
                return RunRecording(durable: durable, runID: durable.runID, closeStore: close)
            }
            let durable = DurableRun(newRunID: DurableRun.newRunID(), store: opened, cache: setting)
            return RunRecording(durable: durable, runID: durable.runID, closeStore: close)
        } catch {
            throw CLIError.invalid(error.message + (resumeID == nil ? " (or run with --no-store)" : ""))
        }
    }

    /// The providers, answering from the cache (`--cache`) and from the run's saved calls.
    func wrap(_ providers: RunEngine.Providers) -> RunEngine.Providers {
        durable?.providers(providers) ?? providers
    }

    /// Records a new run (a resume is already recorded), then says where it is kept.
    func begin(plan: Plan, inputs: JSONValue, arguments: [String]) async throws {
        guard let durable else { return }
        if let resumed {
            let hash = ContentHash.hex(of: plan.source.bytes)
            if hash != resumed.run.plan.contentHash {
                Terminal.error("warning: \(plan.source.path) changed since run \(runID) started; steps with checkpoints keep their saved outputs")
            }
            Terminal.error("resuming run \(runID) from seq \(resumed.state.nextSeq): \(resumed.state.checkpoints.count) step checkpoint(s), \(resumed.interruptedSteps) interrupted step(s) run again")
            return
        }
        do {
            try await durable.record(plan: PlanIdentity(plan), inputs: inputs, options: ["arguments": .array(arguments.map(JSONValue.string))], user: "local")
        } catch {
            throw CLIError.invalid("\(error.message) (or run with --no-store)")
        }
        Terminal.error("run \(runID) (recorded in \(durable.store.location))")
    }

    /// Runs the engine with the store's sink first, so every event is stored before the view
    /// shows it; a `sluice runs cancel` from another process cancels the run.
    func run(engine: RunEngine, plan: Plan, inputs: JSONValue, sinks: [any EventSink]) async -> RunOutcome {
        guard let durable else { return await engine.run(plan: plan, inputs: inputs, sinks: sinks) }
        return await durable.watchingCancelRequests(every: Self.cancelPollInterval) {
            await engine.run(plan: plan, inputs: inputs, sinks: durable.sinks(sinks), resume: durable.resumeState)
        }
    }

    /// Writes what the store still lacks, reports anything that could not be recorded, and
    /// closes the store.
    func end(_ outcome: RunOutcome) async {
        guard let durable else { return }
        defer { closeStore?() }
        if let error = await durable.flush() {
            Terminal.error("error: \(durable.storage.unwritten.count) event(s) of run \(runID) could not be recorded: \(error.message)")
        }
        for failure in durable.ledger.failures {
            Terminal.error("warning: a provider call was not saved (a resume would make it again): \(failure.message)")
        }
        if let caching = durable.caching, caching.hits + caching.misses > 0 {
            Terminal.error("cache: \(caching.hits) hit(s), \(caching.misses) miss(es)")
        }
        if outcome.status != .completed {
            Terminal.error("run \(runID) \(outcome.status.rawValue); continue it with: sluice runs resume \(runID)  (data in \(durable.store.location))")
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
