import SluiceJSON
import SluicePlan

/// `map` and `loop`: bodies run per item (concurrently, capped) or per round (keeping the best).
extension Interpreter {
    /// The most items a map runs at once, whatever the plan asks.
    static let maxConcurrency = 64
    /// The most rounds a loop runs, whatever the plan asks.
    static let maxIterations = 100

    /// Runs the body once per element in one task group, at most `concurrency` at a time;
    /// results keep the list's order. A failed item fails the map (cancelling the others)
    /// unless `tolerate_failures`, which records it and leaves `null` in its place. Budget
    /// and cancellation failures always stop the map.
    ///
    /// A body that only computes (`set`, `template`, `validate`) has nothing to wait for, so
    /// its items run one after another in this task instead of one task each.
    func runMap(_ map: MapStep, step: Step, items: [JSONValue], scope: Scope) async throws -> StepResult {
        let cap = min(try scope.count(map.concurrency, field: "concurrency", minimum: 1, step: step.id), Self.maxConcurrency)
        var collected = MapResults(count: items.count)
        if map.steps.allSatisfy(\.onlyComputes) {
            for index in items.indices {
                try Task.checkCancellation()
                let outcome = await runItemCatching(map, step: step, element: items[index], index: index, scope: scope)
                try collected.record(outcome, map: map, step: step)
            }
            return collected.result(tolerating: map.tolerateFailures)
        }
        try await withThrowingTaskGroup(of: ItemOutcome.self) { group in
            var next = 0
            while next < min(cap, items.count) {
                let index = next
                group.addTask { await self.runItemCatching(map, step: step, element: items[index], index: index, scope: scope) }
                next += 1
            }
            while let outcome = try await group.next() {
                do {
                    try collected.record(outcome, map: map, step: step)
                } catch {
                    group.cancelAll()
                    throw error
                }
                if next < items.count {
                    let index = next
                    group.addTask { await self.runItemCatching(map, step: step, element: items[index], index: index, scope: scope) }
                    next += 1
                }
            }
        }
        return collected.result(tolerating: map.tolerateFailures)
    }

    /// A map's results in the list's order, and its failed items.
    struct MapResults {
        var results: [JSONValue]
        var failed: [(index: Int, failure: RunFailure)] = []

        init(count: Int) {
            results = [JSONValue](repeating: .null, count: count)
        }

        /// Keeps an item's outcome.
        /// - Throws: the failure that stops the map (any failure, unless the map tolerates them;
        ///   budget and cancellation failures always).
        @inline(never)
        mutating func record(_ outcome: ItemOutcome, map: MapStep, step: Step) throws(RunFailure) {
            switch outcome.result {
            case .success(let value):
                results[outcome.index] = value
            case .failure(let failure):
                if failure.endsRun || !map.tolerateFailures {
                    throw RunFailure(failure.kind, "item \(outcome.index): \(failure.message)", step: failure.step ?? step.id)
                }
                failed.append((outcome.index, failure))
            }
        }

        @inline(never)
        func result(tolerating: Bool) -> StepResult {
            var result = StepResult(output: .array(results))
            if tolerating {
                result.failedItems = .array(failed.sorted { $0.index < $1.index }.map {
                    ["index": .integer(Int64($0.index)), "error": $0.failure.jsonValue]
                })
            }
            return result
        }
    }

    /// One map item's end: its index and its result or failure.
    struct ItemOutcome: Sendable {
        var index: Int
        var result: Result<JSONValue, RunFailure>
    }

    fileprivate func runItemCatching(_ map: MapStep, step: Step, element: JSONValue, index: Int, scope: Scope) async -> ItemOutcome {
        do {
            return ItemOutcome(index: index, result: .success(try await runItem(map, step: step, element: element, index: index, scope: scope)))
        } catch {
            return ItemOutcome(index: index, result: .failure(Self.normalize(error, step: step.id)))
        }
    }

    private func runItem(_ map: MapStep, step: Step, element: JSONValue, index: Int, scope: Scope) async throws -> JSONValue {
        var itemScope = Self.itemScope(map, step: step, element: element, index: index, scope: scope)
        try await runSteps(map.steps, in: &itemScope)
        return try Self.itemResult(map, step: step, scope: itemScope)
    }

    /// What item `index`'s body sees: the element under the map's name, and `index`.
    @inline(never)
    private static func itemScope(_ map: MapStep, step: Step, element: JSONValue, index: Int, scope: Scope) -> Scope {
        var itemScope = scope.child()
        itemScope.bind(map.itemName, to: element)
        itemScope.bind("index", to: .integer(Int64(index)))
        itemScope.item = index
        itemScope.parent = step.id
        itemScope.path = scope.checkpointKey(step.id) + "[\(index)]/"
        return itemScope
    }

    /// An item's result: the map's `result`, or the last body step's output.
    @inline(never)
    private static func itemResult(_ map: MapStep, step: Step, scope: Scope) throws(RunFailure) -> JSONValue {
        if let result = map.result { return try scope.evaluate(result, step: step.id) }
        return map.steps.last.flatMap { scope.output(of: $0.id) } ?? .null
    }

    /// Repeats the body until `until` holds or `max_iterations` rounds have run, then keeps the
    /// best round: the highest score of the body's last gate (a later round wins a tie), or the
    /// last round when the body has no gate. The body sees `loop.iteration`, `loop.best` and
    /// `loop.feedback` (the last gate's output in the previous round); after the loop, its body
    /// steps' outputs are the best round's.
    func runLoop(_ loop: LoopStep, step: Step, scope: Scope) async throws -> StepResult {
        let limit = min(try scope.count(loop.maxIterations, field: "max_iterations", minimum: 1, step: step.id), Self.maxIterations)
        let rounds = LoopRounds(loop, step: step)
        for iteration in 1...limit {
            try Task.checkCancellation()
            var roundScope = rounds.scope(for: iteration, in: scope)
            try await runSteps(loop.steps, in: &roundScope)
            if try rounds.finish(iteration, scope: roundScope) { break }
        }
        return rounds.result
    }
}

/// The rounds of one loop step: what each round sees, and the best round so far.
///
/// A class so the loop's waiting frame holds one reference (see ``Interpreter``, "Keeping runs
/// small"); only the loop's own task touches it, one round after another.
private final class LoopRounds: @unchecked Sendable {
    /// One round: its number, the last gate's score, and every body step's output.
    struct Round {
        var iteration: Int
        var score: Double?
        var outputs: [(id: String, value: StepValue)]

        var outputsJSON: JSONObject {
            JSONObject(outputs.map { ($0.id, $0.value.json) })
        }

        var json: JSONValue {
            ["iteration": .integer(Int64(iteration)), "score": score.map { .double($0) } ?? .null, "outputs": .object(outputsJSON)]
        }
    }

    let loop: LoopStep
    let step: Step
    /// The body's gates, in order (the last one that scored decides the round's score).
    let gates: [String]
    /// Every step of the body, nested ones too: their outputs make up a round.
    let bodyIDs: [String]
    var best: Round?
    var feedback: JSONValue = .null
    var rounds = 0

    init(_ loop: LoopStep, step: Step) {
        self.loop = loop
        self.step = step
        gates = loop.steps.filter { if case .gate = $0.kind { true } else { false } }.map(\.id)
        bodyIDs = loop.steps.flatMap { [$0] + $0.descendants }.map(\.id)
    }

    /// What round `iteration` sees: `loop.iteration`, `loop.best` and `loop.feedback`.
    @inline(never)
    func scope(for iteration: Int, in scope: Scope) -> Scope {
        var roundScope = scope.child()
        roundScope.iteration = iteration
        roundScope.parent = step.id
        roundScope.path = scope.checkpointKey(step.id) + "#\(iteration)/"
        roundScope.setLoop(["iteration": .integer(Int64(iteration)), "best": best?.json ?? .null, "feedback": feedback])
        return roundScope
    }

    /// Keeps the round if it is the best so far; whether the loop is done (`until` holds).
    @inline(never)
    func finish(_ iteration: Int, scope roundScope: Scope) throws(RunFailure) -> Bool {
        rounds = iteration
        var outputs: [(id: String, value: StepValue)] = []
        for id in bodyIDs {
            if let value = roundScope.value(of: id) { outputs.append((id, value)) }
        }
        let lastGate = gates.last { roundScope.output(of: $0)?["score"]?.doubleValue != nil }
        let round = Round(iteration: iteration, score: lastGate.flatMap { roundScope.output(of: $0)?["score"]?.doubleValue }, outputs: outputs)
        if gates.isEmpty || best == nil || (round.score ?? -.infinity) >= (best?.score ?? -.infinity) {
            best = round
        }
        feedback = lastGate.flatMap { roundScope.output(of: $0) } ?? .null
        guard let until = loop.until else { return false }
        return try roundScope.evaluateBool(until, step: step.id)
    }

    /// The loop's output (the best round) and the body outputs it makes visible to later steps.
    var result: Interpreter.StepResult {
        guard let best else { return Interpreter.StepResult(output: .null) }
        let output: JSONValue = [
            "iteration": .integer(Int64(best.iteration)), "iterations": .integer(Int64(rounds)),
            "score": best.score.map { .double($0) } ?? .null, "outputs": .object(best.outputsJSON),
        ]
        return Interpreter.StepResult(output: output, lifted: best.outputs.map { ($0.id, $0.value) })
    }
}
