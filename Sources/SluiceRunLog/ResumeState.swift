public import SluiceJSON

/// A finished step execution, saved so a resumed run does not run it again.
///
/// Attached to the `step.completed` (or `step.skipped`) event it belongs to, so a store that
/// records events (see ``EventBatchSink``) writes both in one transaction: a checkpoint never
/// exists without its event, nor the event without its checkpoint.
public struct StepCheckpoint: Sendable, Hashable {
    /// Where the execution sits in the run: the enclosing map items and loop rounds, then the
    /// step id, e.g. `sections[2]/write` or `research#3/gate` (see ``Scope``'s `path`).
    public var key: String
    public var output: JSONValue
    /// Outputs the step made visible to later steps besides its own (a loop's best round).
    public var lifted: JSONObject
    /// A tolerant map's failed items.
    public var failedItems: JSONValue?
    /// The step's `when` was false.
    public var skipped: Bool

    public init(key: String, output: JSONValue, lifted: JSONObject = JSONObject(), failedItems: JSONValue? = nil, skipped: Bool = false) {
        self.key = key
        self.output = output
        self.lifted = lifted
        self.failedItems = failedItems
        self.skipped = skipped
    }
}

/// What a run continues from: its id, the next event `seq`, its saved step executions and the
/// usage it already paid for.
///
/// ```swift
/// let state = ResumeState(runID: id, nextSeq: lastSeq + 1, checkpoints: saved, usage: paid)
/// let outcome = await engine.run(plan: plan, inputs: inputs, sinks: [store, view], resume: state)
/// ```
/// The interpreter restores a step whose key has a checkpoint without running it or emitting
/// events; everything else runs as usual. Provider calls inside unfinished steps are not the
/// engine's business: a store wraps the providers to answer them from its own records.
public struct ResumeState: Sendable {
    public var runID: String
    /// The `seq` of the first event this continuation emits (the stored log's last + 1).
    public var nextSeq: Int
    /// By ``StepCheckpoint/key``.
    public var checkpoints: [String: StepCheckpoint]
    /// Totals of the calls made before, so budgets and `run.completed` count the whole run.
    public var usage: UsageTotals

    public init(runID: String, nextSeq: Int, checkpoints: [String: StepCheckpoint], usage: UsageTotals = UsageTotals()) {
        self.runID = runID
        self.nextSeq = max(1, nextSeq)
        self.checkpoints = checkpoints
        self.usage = usage
    }
}

/// A sink that takes the events in the batches the bus forms, before the other sinks see them.
///
/// The bus hands each batch to every batch sink first, in the order of the sinks list, then the
/// batch's events to the other sinks: a store that is a batch sink has written an event before
/// any transport sends it, with one transaction per batch.
public protocol EventBatchSink: EventSink {
    func receive(batch: [RunEvent]) async
}

extension EventBatchSink {
    public func receive(_ event: RunEvent) async {
        await receive(batch: [event])
    }
}
