import Foundation
import SluiceJSON
import SluicePlan
import SluiceProviders
import SluiceRunLog
import Synchronization

/// The state one run shares across all its concurrently running steps: the event bus, usage
/// totals and budgets, and the outputs finished so far (for a failed run's partial output).
final class RunContext: Sendable {
    let runID: String
    let bus: EventBus
    let budget: Budget
    let maxSteps: Int
    let prices: PriceTable
    /// The checkpoints of a resumed run (nil for a fresh run).
    let resume: ResumeState?
    let schemas: SchemaCache
    private let now: @Sendable () -> Date
    private let state = Mutex(State())

    struct State {
        var usage = UsageTotals()
        var stepsStarted = 0
        var partial = JSONObject()
    }

    init(
        runID: String, bus: EventBus, budget: Budget, maxSteps: Int, prices: PriceTable, schemas: SchemaCache,
        resume: ResumeState? = nil, now: @escaping @Sendable () -> Date
    ) {
        self.schemas = schemas
        self.resume = resume
        if let resume { state.withLock { $0.usage = resume.usage } }
        self.runID = runID
        self.bus = bus
        self.budget = budget
        self.maxSteps = maxSteps
        self.prices = prices
        self.now = now
    }

    var time: Date { now() }

    /// Publishes a run-level event.
    @inline(never)
    func emit(_ type: EventType, data: JSONValue) {
        bus.publish(type, data: data, time: now())
    }

    /// Publishes an event about `step` at the scope's item and iteration.
    @inline(never)
    func emit(_ type: EventType, step: String, scope: Scope, data: JSONValue, checkpoint: StepCheckpoint? = nil) {
        bus.publish(
            type, step: scope.eventPrefix + step, item: scope.item, iteration: scope.iteration, data: data, time: now(),
            checkpoint: checkpoint)
    }

    /// A piece of a step's streamed text, as `step.delta`.
    @inline(never)
    func emitDelta(_ text: String, step: String, scope: Scope) {
        emit(.stepDelta, step: step, scope: scope, data: ["text": .string(text)])
    }

    var usage: UsageTotals { state.withLock { $0.usage } }
    var partialOutputs: JSONObject { state.withLock { $0.partial } }

    /// Counts a step start against `max_steps`.
    func countStep(_ step: String) throws(RunFailure) {
        let count = state.withLock { state in
            state.stepsStarted += 1
            return state.stepsStarted
        }
        if count > maxSteps {
            throw RunFailure(.budgetExceeded, "the run started more than \(maxSteps) steps (budget max_steps)", step: step)
        }
    }

    /// Adds one model call's usage; returns its cost (nil when the model has no price).
    func record(_ usage: ModelUsage) -> Double? {
        let cost = prices.cost(of: usage)
        state.withLock { $0.usage.add(usage, cost: cost) }
        return cost
    }

    /// - Throws: `budget_exceeded` when the totals exceed `max_tokens` or `max_cost_usd`.
    func checkBudget(step: String) throws(RunFailure) {
        let totals = usage
        if let maxTokens = budget.maxTokens, totals.totalTokens > maxTokens {
            throw RunFailure(.budgetExceeded, "the run used \(totals.totalTokens) tokens, over its budget of \(maxTokens) (budget max_tokens)", step: step)
        }
        if let maxCost = budget.maxCostUSD, totals.costUSD > maxCost {
            throw RunFailure(.budgetExceeded, "the run cost $\(String(format: "%.4f", totals.costUSD)), over its budget of $\(maxCost) (budget max_cost_usd)", step: step)
        }
    }

    /// A compiled JSON Schema (shared across the engine's runs).
    func schema(_ schema: JSONValue, for step: String?) throws(RunFailure) -> JSONSchema {
        try schemas.schema(schema, step: step)
    }

    /// Remembers a top-level step's output for the partial result of a failed run.
    func recordPartial(_ output: JSONValue, of step: String) {
        state.withLock { $0.partial[step] = output }
    }
}

extension UsageTotals {
    /// Adds one model call: the engine's side of the totals (it prices calls; the type lives in
    /// SluiceRunLog, which knows nothing of providers).
    mutating func add(_ usage: ModelUsage, cost: Double?) {
        inputTokens += usage.inputTokens
        outputTokens += usage.outputTokens
        modelCalls += 1
        if let cost { costUSD += cost } else { unpricedCalls += 1 }
        if usage.provider == SimulatedModel.providerName { simulated = true }
    }
}
