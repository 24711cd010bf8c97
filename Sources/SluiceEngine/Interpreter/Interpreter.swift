import Foundation
import SluiceJSON
import SluicePlan
import SluiceProviders

/// Executes steps: the lifecycle every kind shares (`when`, started, retries, timeout, the end
/// event), and dispatch to each kind's executor (the `Interpreter+…` files).
struct Interpreter: Sendable {
    let plan: Plan
    let context: RunContext
    let engine: RunEngine
    /// How deep in `call`s this plan runs (0 for the run's own plan).
    let callDepth: Int

    static let maxCallDepth = 8

    /// What a step produced: its output, plus outputs it makes visible to later steps (a loop's
    /// body steps from its best round) and a map's failed items.
    struct StepResult: Sendable {
        var output: JSONValue
        var lifted: [(key: String, value: JSONValue)] = []
        var failedItems: JSONValue?
        /// A search step's response-cache `{hits, misses}`, shown in `step.completed`.
        var cache: JSONValue?
    }

    /// Runs `steps` in order, each seeing the outputs of those before it.
    func runSteps(_ steps: [Step], in scope: inout Scope, topLevel: Bool = false) async throws {
        for step in steps {
            try Task.checkCancellation()
            try await execute(step, in: &scope)
            if topLevel, callDepth == 0, let output = scope.output(of: step.id) {
                context.recordPartial(output, of: step.id)
            }
        }
    }

    /// One step, start to end: every started step ends with `step.completed` or `step.failed`.
    func execute(_ step: Step, in scope: inout Scope) async throws {
        let id = step.id
        let key = scope.checkpointKey(id)
        if let saved = context.resume?.checkpoints[key] {
            restore(saved, of: step, in: &scope)
            return
        }
        if let when = step.when, try !scope.evaluateBool(when, step: id) {
            context.emit(
                .stepSkipped, step: id, scope: scope, data: ["reason": .string("when '\(when.source)' is false")],
                checkpoint: StepCheckpoint(key: key, output: .null, skipped: true))
            scope.setOutput(.null, of: id)
            return
        }
        try context.countStep(id)
        let started = ContinuousClock.now
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
        context.emit(.stepStarted, step: id, scope: scope, data: startedData(step, scope: scope, items: knownItems, details: knownDetails))
        do {
            _ = try details?.get()
            let items = try mapItems?.get()
            let result = try await attempts(step, scope: scope, mapItems: items)
            var data: JSONObject = ["output": result.output, "duration_ms": .integer(Int64(Self.milliseconds(since: started)))]
            if let failed = result.failedItems { data["failed_items"] = failed }
            if let cache = result.cache { data["cache"] = cache }
            let checkpoint = StepCheckpoint(
                key: key, output: result.output, lifted: JSONObject(result.lifted.map { ($0.key, $0.value) }), failedItems: result.failedItems)
            context.emit(.stepCompleted, step: id, scope: scope, data: .object(data), checkpoint: checkpoint)
            for (key, value) in result.lifted { scope.setOutput(value, of: key) }
            scope.setOutput(result.output, of: id, schema: step.outputSchema)
        } catch {
            let failure = Self.normalize(error, step: id)
            context.emit(.stepFailed, step: id, scope: scope, data: [
                "error": failure.jsonValue, "duration_ms": .integer(Int64(Self.milliseconds(since: started))),
            ])
            throw failure
        }
    }

    /// A resumed run's finished step: its outputs as they were, with no events (the log has them).
    private func restore(_ saved: StepCheckpoint, of step: Step, in scope: inout Scope) {
        for (key, value) in saved.lifted.members { scope.setOutput(value, of: key) }
        scope.setOutput(saved.output, of: step.id, schema: saved.skipped ? nil : step.outputSchema)
    }

    private func startedData(_ step: Step, scope: Scope, items: [JSONValue]?, details: JSONValue?) -> JSONValue {
        var data: JSONObject = ["kind": .string(step.kindName)]
        if let title = step.title { data["title"] = .string(title) }
        if let status = step.status { data["status"] = .string(status) }
        if let message = step.message { data["message"] = .string(scope.render(message)) }
        if let details { data["details"] = details }
        if let parent = scope.parent { data["parent"] = .string(scope.eventPrefix + parent) }
        if let items { data["items"] = .integer(Int64(items.count)) }
        return .object(data)
    }

    /// Runs the step's kind, retrying per its `retry` policy, each attempt under its timeout.
    private func attempts(_ step: Step, scope: Scope, mapItems: [JSONValue]?) async throws -> StepResult {
        let retries = step.isLeaf ? step.retry : nil
        let maxAttempts = max(1, retries?.maxAttempts ?? 1)
        let timeout = try step.timeoutSeconds.map { setting throws(RunFailure) in
            try scope.number(setting, field: "timeout_seconds", step: step.id)
        }
        var attempt = 1
        while true {
            do {
                let failure = RunFailure(.timeout, "the step took longer than \(timeout ?? 0)s (timeout_seconds)", step: step.id, isRetryable: true)
                return try await Timeouts.run(seconds: timeout, failure: failure) {
                    try await perform(step, scope: scope, mapItems: mapItems)
                }
            } catch {
                let failure = Self.normalize(error, step: step.id)
                guard failure.isRetryable, attempt < maxAttempts, !Task.isCancelled, let retries else { throw failure }
                let delay = Backoff.delay(afterAttempt: attempt, policy: retries, random: engine.configuration.random())
                context.emit(.stepRetrying, step: step.id, scope: scope, data: [
                    "attempt": .integer(Int64(attempt)), "max_attempts": .integer(Int64(maxAttempts)),
                    "delay_ms": .integer(Int64(delay)), "reason": .string(failure.message),
                ])
                try await Task.sleep(for: .milliseconds(delay))
                attempt += 1
            }
        }
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

    /// Dispatches to the step kind's executor.
    private func perform(_ step: Step, scope: Scope, mapItems: [JSONValue]?) async throws -> StepResult {
        try Task.checkCancellation()
        switch step.kind {
        case .llm(let llm): return StepResult(output: try await runLLM(llm, step: step, scope: scope))
        case .gate(let gate): return StepResult(output: try await runGate(gate, step: step, scope: scope))
        case .search(let search):
            let searched = try await runSearch(search, step: step, scope: scope)
            return StepResult(output: searched.output, cache: searched.cache)
        case .fetch(let fetch): return StepResult(output: try await runFetch(fetch, step: step, scope: scope))
        case .load(let load): return StepResult(output: try await runLoad(load, step: step, scope: scope))
        case .map(let map): return try await runMap(map, step: step, items: mapItems ?? [], scope: scope)
        case .loop(let loop): return try await runLoop(loop, step: step, scope: scope)
        case .confirm(let confirm): return StepResult(output: try await runConfirm(confirm, step: step, scope: scope))
        case .template(let template): return StepResult(output: .string(scope.render(template.template)))
        case .set(let set): return StepResult(output: try scope.evaluate(set.value, step: step.id))
        case .call(let call): return StepResult(output: try await runCall(call, step: step, scope: scope))
        case .validate(let validate): return StepResult(output: try runValidate(validate, step: step, scope: scope))
        }
    }

    /// Any error as a ``RunFailure`` attributed to `step`.
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

    /// Steps that do one thing (retries apply to them); map, loop and call retry inside.
    var isLeaf: Bool {
        switch kind {
        case .map, .loop, .call: false
        default: true
        }
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
