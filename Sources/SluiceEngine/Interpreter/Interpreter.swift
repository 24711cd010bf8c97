import Foundation
import SluiceJSON
import SluicePlan
import SluiceProviders
import SluiceRunLog

/// Executes steps: the lifecycle every kind shares (`when`, started, retries, timeout, the end
/// event), and dispatch to each kind's executor (the `Interpreter+…` files).
///
/// #### Keeping runs small
/// Thousands of runs wait on their models at once, and every `async` function that is waiting
/// holds its frame in its task's memory. So the `async` functions here are thin: they await,
/// and leave the work between awaits (events, outputs, errors) to synchronous helpers marked
/// `@inline(never)`, whose locals live on the thread's stack for a moment instead of in every
/// waiting frame. Plan parts (``Step``, expressions, templates) and this interpreter are
/// classes for the same reason: a reference is 8 bytes in a frame.
final class Interpreter: Sendable {
    let plan: Plan
    let context: RunContext
    let engine: RunEngine
    /// How deep in `call`s this plan runs (0 for the run's own plan).
    let callDepth: Int

    static let maxCallDepth = 8

    init(plan: Plan, context: RunContext, engine: RunEngine, callDepth: Int) {
        self.plan = plan
        self.context = context
        self.engine = engine
        self.callDepth = callDepth
    }

    /// What a step produced: its output, plus outputs it makes visible to later steps (a loop's
    /// body steps from its best round) and a map's failed items.
    struct StepResult: Sendable {
        var output: JSONValue
        var lifted: [(key: String, value: StepValue)] = []
        var failedItems: JSONValue?
        /// A search step's response-cache `{hits, misses}`, shown in `step.completed`.
        var cache: JSONValue?
        /// A text answer that stopped at its token limit and was used (`on_truncation`).
        var truncated = false
    }

    /// Runs `steps` in order, each seeing the outputs of those before it.
    @inline(never)
    func runSteps(_ steps: [Step], in scope: inout Scope, topLevel: Bool = false) async throws {
        for step in steps {
            try Task.checkCancellation()
            try await execute(step, in: &scope)
            if topLevel, callDepth == 0 { recordPartial(of: step, in: scope) }
        }
    }

    @inline(never)
    private func recordPartial(of step: Step, in scope: Scope) {
        if let output = scope.output(of: step.id) { context.recordPartial(output, of: step.id) }
    }

    /// One step, start to end: every started step ends with `step.completed` or `step.failed`.
    /// Not inlined into ``runSteps(_:in:topLevel:)``: the two frames, both waiting on every
    /// step, are smaller apart than runSteps with this inside it (measured in release).
    @inline(never)
    func execute(_ step: Step, in scope: inout Scope) async throws {
        guard let started = try begin(step, in: &scope) else { return }
        let result: StepResult
        do {
            result = try await attempts(step, scope: scope, mapItems: started.mapItems)
        } catch {
            throw fail(step, with: error, scope: scope, since: started.time)
        }
        complete(step, with: result, in: &scope, since: started.time)
    }

    /// A step that has started: when, and a map's items.
    struct Started: Sendable {
        var time: ContinuousClock.Instant
        var mapItems: [JSONValue]?
    }

    /// Everything before a step's work: a resumed run's checkpoint, `when`, the step budget, a
    /// map's list and the `step.started` event. Nil when the step is done already (restored
    /// or skipped).
    ///
    /// - Throws: a failure after `step.started` has been emitted (then `step.failed` has been
    ///   too), or before it (the step budget, a failing `when`).
    @inline(never)
    private func begin(_ step: Step, in scope: inout Scope) throws -> Started? {
        let id = step.id
        let key = scope.checkpointKey(id)
        if let saved = context.resume?.checkpoints[key] {
            restore(saved, of: step, in: &scope)
            return nil
        }
        if let when = step.when, try !scope.evaluateBool(when, step: id) {
            context.emit(
                .stepSkipped, step: id, scope: scope, data: ["reason": .string("when '\(when.source)' is false")],
                checkpoint: StepCheckpoint(key: key, output: .null, skipped: true))
            scope.setOutput(.null, of: id)
            return nil
        }
        try context.countStep(id)
        let time = ContinuousClock.now
        // A map's list is evaluated first so `step.started` can say how many items it has.
        var mapItems: Result<[JSONValue], RunFailure>?
        if case .map(let map) = step.kind {
            do { mapItems = .success(try scope.evaluateList(map.over, step: id)) } catch { mapItems = .failure(error) }
        }
        let knownItems: [JSONValue]? = if case .success(let list) = mapItems { list } else { nil }
        // Progress details too; a failing expression fails the step after its start.
        var details: Result<JSONValue, RunFailure>?
        if let value = step.details {
            do { details = .success(try scope.evaluate(value, step: id)) } catch { details = .failure(error) }
        }
        let knownDetails: JSONValue? = if case .success(let value) = details { value } else { nil }
        // The progress message likewise (its template may be compiled only now).
        var message: Result<String, RunFailure>?
        if let template = step.message {
            do { message = .success(try scope.render(template, step: id)) } catch { message = .failure(error) }
        }
        let knownMessage: String? = if case .success(let text) = message { text } else { nil }
        context.emit(
            .stepStarted, step: id, scope: scope,
            data: startedData(step, scope: scope, items: knownItems, details: knownDetails, message: knownMessage))
        do {
            _ = try details?.get()
            _ = try message?.get()
            return Started(time: time, mapItems: try mapItems?.get())
        } catch {
            throw fail(step, with: error, scope: scope, since: time)
        }
    }

    /// `step.completed` with its checkpoint, and the outputs made visible to later steps.
    @inline(never)
    private func complete(_ step: Step, with result: StepResult, in scope: inout Scope, since started: ContinuousClock.Instant) {
        var data: JSONObject = ["output": result.output, "duration_ms": .integer(Int64(Self.milliseconds(since: started)))]
        if let failed = result.failedItems { data["failed_items"] = failed }
        if let cache = result.cache { data["cache"] = cache }
        if result.truncated { data["truncated"] = true }
        let checkpoint = StepCheckpoint(
            key: scope.checkpointKey(step.id), output: result.output,
            lifted: JSONObject(result.lifted.map { ($0.key, $0.value.json) }), failedItems: result.failedItems)
        context.emit(.stepCompleted, step: step.id, scope: scope, data: .object(data), checkpoint: checkpoint)
        for (key, value) in result.lifted { scope.setOutput(value, of: key) }
        scope.setOutput(result.output, of: step.id, schema: step.outputSchema)
    }

    /// `step.failed`; returns the failure to throw.
    @inline(never)
    private func fail(_ step: Step, with error: any Error, scope: Scope, since started: ContinuousClock.Instant) -> RunFailure {
        let failure = Self.normalize(error, step: step.id)
        context.emit(.stepFailed, step: step.id, scope: scope, data: [
            "error": failure.jsonValue, "duration_ms": .integer(Int64(Self.milliseconds(since: started))),
        ])
        return failure
    }

    /// A resumed run's finished step: its outputs as they were, with no events (the log has them).
    private func restore(_ saved: StepCheckpoint, of step: Step, in scope: inout Scope) {
        for (key, value) in saved.lifted.members { scope.setOutput(value, of: key) }
        scope.setOutput(saved.output, of: step.id, schema: saved.skipped ? nil : step.outputSchema)
    }

    private func startedData(_ step: Step, scope: Scope, items: [JSONValue]?, details: JSONValue?, message: String?) -> JSONValue {
        var data: JSONObject = ["kind": .string(step.kindName)]
        if let title = step.title { data["title"] = .string(title) }
        if let status = step.status { data["status"] = .string(status) }
        if let message { data["message"] = .string(message) }
        if let details { data["details"] = details }
        if let parent = scope.parent { data["parent"] = .string(scope.eventPrefix + parent) }
        if let items { data["items"] = .integer(Int64(items.count)) }
        return .object(data)
    }

    /// Runs the step's kind once, or per its `retry` policy and `timeout_seconds` when it has
    /// them (kept apart so the common waiting frame is small). Inlined: a frame of its own
    /// would wait on every step.
    @inline(__always)
    private func attempts(_ step: Step, scope: Scope, mapItems: [JSONValue]?) async throws -> StepResult {
        let work = work(step, scope: scope, mapItems: mapItems)
        try Task.checkCancellation()
        guard step.timeoutSeconds != nil || (step.isLeaf && step.retry != nil) else { return try await work() }
        return try await attempts(step, scope: scope, work: work)
    }

    /// Each attempt under the step's timeout, retried per its `retry` policy.
    private func attempts(_ step: Step, scope: Scope, work: @escaping @Sendable () async throws -> StepResult) async throws -> StepResult {
        let seconds = try attemptTimeout(step, scope: scope)
        var attempt = 1
        while true {
            do {
                try Task.checkCancellation()
                return try await Timeouts.run(seconds: seconds, failure: { Self.timeoutFailure(step, seconds: seconds) }, work)
            } catch {
                let delay = try retryDelay(step, after: error, attempt: attempt, scope: scope)
                try await Task.sleep(for: .milliseconds(delay))
                attempt += 1
            }
        }
    }

    /// The step's `timeout_seconds`; nil without one.
    @inline(never)
    private func attemptTimeout(_ step: Step, scope: Scope) throws(RunFailure) -> Double? {
        guard let setting = step.timeoutSeconds else { return nil }
        return try scope.number(setting, field: "timeout_seconds", step: step.id)
    }

    /// What an attempt that ran out of time ends with.
    @inline(never)
    private static func timeoutFailure(_ step: Step, seconds: Double?) -> RunFailure {
        RunFailure(.timeout, "the step took longer than \(seconds ?? 0)s (timeout_seconds)", step: step.id, isRetryable: true)
    }

    /// After failed attempt `attempt`: the pause before the next one (announced as
    /// `step.retrying`), or the failure when the step may not try again.
    @inline(never)
    private func retryDelay(_ step: Step, after error: any Error, attempt: Int, scope: Scope) throws(RunFailure) -> Int {
        let failure = Self.normalize(error, step: step.id)
        let retries = step.isLeaf ? step.retry : nil
        let maxAttempts = max(1, retries?.maxAttempts ?? 1)
        guard failure.isRetryable, attempt < maxAttempts, !Task.isCancelled, let retries else { throw failure }
        let delay = Backoff.delay(afterAttempt: attempt, policy: retries, random: engine.configuration.random())
        context.emit(.stepRetrying, step: step.id, scope: scope, data: [
            "attempt": .integer(Int64(attempt)), "max_attempts": .integer(Int64(maxAttempts)),
            "delay_ms": .integer(Int64(delay)), "reason": .string(failure.message),
        ])
        return delay
    }

    /// Reports a provider's own retries (a 429, a 5xx, a dropped connection) as `step.retrying`
    /// of the step that made the call, with `"source": "provider"` to tell them from the
    /// step's `retry` policy.
    func providerRetryReporter(step: String, scope: Scope) -> @Sendable (ProviderRetryInfo) -> Void {
        let context = self.context
        return { info in
            let delay = info.delay.components
            let milliseconds = delay.seconds * 1000 + delay.attoseconds / 1_000_000_000_000_000
            context.emit(.stepRetrying, step: step, scope: scope, data: [
                "attempt": .integer(Int64(info.attempt)), "max_attempts": .integer(Int64(info.maxAttempts)),
                "delay_ms": .integer(milliseconds), "reason": .string(info.reason),
                "source": "provider", "provider": .string(info.provider),
            ])
        }
    }

    /// The step kind's executor as one attempt's work. Synchronous on purpose: only the chosen
    /// kind's settings are captured, so a waiting attempt holds one kind's frame, not a frame
    /// with room for all twelve.
    @inline(never)
    private func work(_ step: Step, scope: Scope, mapItems: [JSONValue]?) -> @Sendable () async throws -> StepResult {
        switch step.kind {
        case .llm(let llm): { try await self.runLLM(llm, step: step, scope: scope) }
        case .gate(let gate): { StepResult(output: try await self.runGate(gate, step: step, scope: scope)) }
        case .search(let search):
            {
                let searched = try await self.runSearch(search, step: step, scope: scope)
                return StepResult(output: searched.output, cache: searched.cache)
            }
        case .fetch(let fetch): { StepResult(output: try await self.runFetch(fetch, step: step, scope: scope)) }
        case .load(let load): { StepResult(output: try await self.runLoad(load, step: step, scope: scope)) }
        case .map(let map): { try await self.runMap(map, step: step, items: mapItems ?? [], scope: scope) }
        case .loop(let loop): { try await self.runLoop(loop, step: step, scope: scope) }
        case .confirm(let confirm): { StepResult(output: try await self.runConfirm(confirm, step: step, scope: scope)) }
        case .template(let template): { StepResult(output: .string(try scope.render(template.template, step: step.id))) }
        case .set(let set): { StepResult(output: try scope.evaluate(set.value, step: step.id)) }
        case .call(let call): { StepResult(output: try await self.runCall(call, step: step, scope: scope)) }
        case .validate(let validate): { StepResult(output: try self.runValidate(validate, step: step, scope: scope)) }
        }
    }

    /// Any error as a ``RunFailure`` attributed to `step`.
    @inline(never)
    static func normalize(_ error: any Error, step: String?) -> RunFailure {
        switch error {
        case let failure as RunFailure:
            return failure
        case is CancellationError:
            return RunFailure(.cancelled, "cancelled", step: step)
        case let provider as ProviderError:
            return RunFailure(.providerError, provider.description, step: step, isRetryable: provider.isRetryable)
        default:
            return RunFailure(.stepFailed, "\(error)", step: step)
        }
    }

    static func milliseconds(since start: ContinuousClock.Instant) -> Int {
        let elapsed = ContinuousClock.now - start
        return Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
    }
}

extension Step {
    /// The JSON Schema of the step's output, when the plan gives one (structured `llm` steps).
    var outputSchema: JSONValue? {
        if case .llm(let llm) = kind { llm.schema } else { nil }
    }

    /// Steps that only compute from the context: nothing to wait for, no provider to call.
    var onlyComputes: Bool {
        declaredKind.execution == .computes
    }

    /// Steps that do one thing (retries apply to them); map, loop and call retry inside.
    var isLeaf: Bool {
        declaredKind.execution != .runsSteps
    }
}

/// Exponential backoff with jitter for step retries.
enum Backoff {
    /// The pause after failed attempt `attempt` (from 1): `initial × 2^(attempt-1)`, capped at
    /// `max`, then scaled by a random factor in [0.5, 1) so retries of parallel items spread out.
    static func delay(afterAttempt attempt: Int, policy: RetryPolicy, random: Double) -> Int {
        let base = Double(max(0, policy.initialDelayMilliseconds)) * pow(2, Double(max(0, attempt - 1)))
        let capped = min(base, Double(max(0, policy.maxDelayMilliseconds)))
        return Int(capped * (0.5 + 0.5 * min(max(random, 0), 1)))
    }
}
