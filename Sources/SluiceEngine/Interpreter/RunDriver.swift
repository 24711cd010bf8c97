import Foundation
import SluiceJSON
import SluicePlan
import SluiceRunLog
import Synchronization

/// One run from `run.started` to its end event: inputs, the steps under the run's timeout,
/// the output, billing, and the mapping of every way a run can end onto events.
final class RunDriver: Sendable {
    let plan: Plan
    let context: RunContext
    let engine: RunEngine

    init(plan: Plan, context: RunContext, engine: RunEngine) {
        self.plan = plan
        self.context = context
        self.engine = engine
    }

    /// How the run ended, once ``run(inputs:)`` has returned.
    var outcome: RunOutcome {
        @inline(never) get {
            // Set by `run(inputs:)` before it returns, on every path.
            ended.withLock { $0 }!
        }
    }

    private let ended = Mutex<RunOutcome?>(nil)

    /// The whole run; then ``outcome`` says how it ended. Thin on purpose: the work around its
    /// one await is in the synchronous helpers below, and no frame waiting on a run has room
    /// for an outcome (see ``Interpreter``, "Keeping runs small").
    @inline(never)
    func run(inputs: JSONValue) async {
        let started = ContinuousClock.now
        let ending = await runSteps(inputs: inputs, started: started)
        finish(ending, started: started)
    }

    /// How the steps ended; small, so that the frame waiting for them is too.
    enum Ending {
        case ended(EndedEarly)
        case finished(Scope)
        case failed(any Error)
    }

    private func runSteps(inputs: JSONValue, started: ContinuousClock.Instant) async -> Ending {
        let steps: @Sendable () async throws -> Scope
        switch start(inputs: inputs, started: started) {
        case .success(let body): steps = body
        case .failure(let ended): return .ended(ended)
        }
        do {
            let scope = try await Timeouts.run(seconds: plan.budget.timeoutSeconds, failure: runTimeout, steps)
            try Task.checkCancellation()
            return .finished(scope)
        } catch {
            return .failed(error)
        }
    }

    @inline(never)
    private func finish(_ ending: Ending, started: ContinuousClock.Instant) {
        let outcome = conclude(ending, started: started)
        ended.withLock { $0 = outcome }
    }

    /// The end event of the run and its outcome.
    private func conclude(_ ending: Ending, started: ContinuousClock.Instant) -> RunOutcome {
        switch ending {
        case .ended(let ended):
            return ended.outcome
        case .finished(let scope):
            do {
                return try complete(scope, started: started)
            } catch {
                return end(with: error, started: started)
            }
        case .failed(let error):
            return end(with: error, started: started)
        }
    }

    /// A run that ended before its steps, as an error (so it fits a `Result`).
    final class EndedEarly: Error {
        let outcome: RunOutcome

        init(outcome: RunOutcome) {
            self.outcome = outcome
        }
    }

    /// `run.started` (or `run.resumed`), then the inputs with defaults applied, as the run's
    /// steps ready to go; an outcome when the inputs are invalid (after `run.failed`).
    @inline(never)
    private func start(inputs: JSONValue, started: ContinuousClock.Instant) -> Result<@Sendable () async throws -> Scope, EndedEarly> {
        var startData: JSONObject = [
            "plan": .string(plan.name),
            "title": plan.title.map(JSONValue.string) ?? .null,
            "inputs": inputs,
        ]
        if let resume = context.resume {
            startData["checkpoints"] = .integer(Int64(resume.checkpoints.count))
            startData["usage"] = resume.usage.jsonValue
        }
        context.emit(context.resume == nil ? .runStarted : .runResumed, data: .object(startData))
        let prepared: JSONValue
        do {
            prepared = try RunInputs.prepare(
                inputs, schema: plan.inputSchema, validator: try? context.schemas.compiled(plan.inputSchema), schemaInputs: plan.schemaInputs)
        } catch {
            let failure = RunFailure(.invalidInputs, error.description)
            var data = endData(started: started)
            data["error"] = failure.jsonValue
            data["errors"] = .array(error.errors.map { ["name": .string($0.name), "message": .string($0.message)] })
            data["billing"] = Billing.notBilled(plan.billing)
            context.emit(.runFailed, data: .object(data))
            return .failure(EndedEarly(outcome: outcome(.failed, failure: failure, billing: Billing.notBilled(plan.billing))))
        }
        let interpreter = Interpreter(plan: plan, context: context, engine: engine, callDepth: 0)
        let plan = self.plan
        return .success {
            var scope = Scope(inputs: prepared, schema: plan.inputSchema)
            try await interpreter.runSteps(plan.steps, in: &scope, topLevel: true)
            return scope
        }
    }

    @inline(never)
    private func runTimeout() -> RunFailure {
        RunFailure(.timeout, "the run took longer than its budget of \(plan.budget.timeoutSeconds ?? 0)s (budget timeout_seconds)")
    }

    /// The result, billing and `run.completed`.
    @inline(never)
    private func complete(_ scope: Scope, started: ContinuousClock.Instant) throws(RunFailure) -> RunOutcome {
        let result = try finalResult(scope)
        let billing = try Billing.decide(plan.billing, scope: scope)
        var data = endData(started: started)
        data["result"] = result
        data["billing"] = billing
        context.emit(.runCompleted, data: .object(data))
        return outcome(.completed, result: result, billing: billing)
    }

    /// `run.cancelled` or `run.failed` (with the partial output), and the outcome.
    @inline(never)
    private func end(with error: any Error, started: ContinuousClock.Instant) -> RunOutcome {
        let failure = Interpreter.normalize(error, step: nil)
        var data = endData(started: started)
        let billing = Billing.notBilled(plan.billing)
        if failure.kind == .cancelled || Task.isCancelled {
            data["reason"] = "cancelled"
            context.emit(.runCancelled, data: .object(data))
            return outcome(.cancelled, failure: RunFailure(.cancelled, "the run was cancelled"), billing: billing)
        }
        data["error"] = failure.jsonValue
        data["partial"] = .object(context.partialOutputs)
        data["billing"] = billing
        context.emit(.runFailed, data: .object(data))
        return outcome(.failed, failure: failure, billing: billing)
    }

    /// The plan's output value, checked against its output schema; without an output, every
    /// top-level step's output.
    private func finalResult(_ scope: Scope) throws(RunFailure) -> JSONValue {
        guard let output = plan.output else {
            var all = JSONObject()
            for step in plan.steps { all[step.id] = scope.output(of: step.id) ?? .null }
            return .object(all)
        }
        let result = try scope.evaluate(output.value, step: "output")
        if let schema = output.schema {
            let problems = try context.schema(schema, for: nil).validate(result)
            if let first = problems.first {
                throw RunFailure(.outputInvalid, "the result does not match the plan's output schema: \(first)" + (problems.count > 1 ? " (and \(problems.count - 1) more)" : ""))
            }
        }
        return result
    }

    private func endData(started: ContinuousClock.Instant) -> JSONObject {
        [
            "usage": context.usage.jsonValue,
            "duration_ms": .integer(Int64(Interpreter.milliseconds(since: started))),
        ]
    }

    private func outcome(_ status: RunOutcome.Status, result: JSONValue? = nil, failure: RunFailure? = nil, billing: JSONValue) -> RunOutcome {
        RunOutcome(
            runID: context.runID, status: status, result: result, failure: failure,
            partial: context.partialOutputs, usage: context.usage, billing: billing
        )
    }
}

/// The billing decision, as seed 000's `decide_billing`: a failed run is not billed; a
/// completed `per_run` plan is billed once; a `per_item` plan is billed for each element of
/// its `items` expression (e.g. validated extraction items).
enum Billing {
    static func decide(_ billing: SluicePlan.Billing, scope: Scope) throws(RunFailure) -> JSONValue {
        switch billing {
        case .perRun:
            return ["status": "completed", "mode": "per_run", "billable": true, "units": 1]
        case .perItem(let items, let unitPrice):
            let count = try scope.evaluateList(items, step: "billing").count
            var object: JSONObject = [
                "status": "completed", "mode": "per_item", "billable": .bool(count > 0), "units": .integer(Int64(count)),
            ]
            if let unitPrice {
                object["unit_price_usd"] = .double(unitPrice)
                object["amount_usd"] = .double((Double(count) * unitPrice * 1_000_000).rounded() / 1_000_000)
            }
            return .object(object)
        }
    }

    static func notBilled(_ billing: SluicePlan.Billing) -> JSONValue {
        let mode: JSONValue = if case .perItem = billing { "per_item" } else { "per_run" }
        return ["status": "failed", "mode": mode, "billable": false, "units": 0, "reason": "a failed run is not billed"]
    }
}
