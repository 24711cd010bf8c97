import SluiceJSON
import SluicePlan
import SluiceRunLog

/// `confirm` and `call`: asking a person, and running another plan.
extension Interpreter {
    /// Approves without asking when `auto_approve` holds; else asks the input provider (after
    /// `input.requested`); with nobody to ask, applies `fallback`. A refusal fails the run.
    func runConfirm(_ confirm: ConfirmStep, step: Step, scope: Scope) async throws -> JSONValue {
        if let auto = confirm.autoApprove, try scope.evaluateBool(auto, step: step.id) {
            return ["approved": true, "asked": false]
        }
        let message = try step.message.map { (template) throws(RunFailure) in try scope.render(template, step: step.id) } ?? "Continue with step '\(step.id)'?"
        let details = try confirm.details.map { value throws(RunFailure) in try scope.evaluate(value, step: step.id) } ?? .null
        guard let input = engine.providers.input else {
            switch confirm.fallback {
            case .approve:
                return ["approved": true, "asked": false]
            case .fail:
                throw RunFailure(
                    .confirmationRefused,
                    "needs approval (\"\(message)\") but there is nobody to ask: run it in a terminal, make auto_approve true, or set \"fallback\": \"approve\"",
                    step: step.id
                )
            }
        }
        context.emit(.inputRequested, step: step.id, scope: scope, data: ["message": .string(message), "details": details])
        let request = ConfirmationRequest(runID: context.runID, step: scope.eventPrefix + step.id, message: message, details: details)
        guard try await input.confirm(request) else {
            throw RunFailure(.confirmationRefused, "approval was refused (\"\(message)\")", step: step.id)
        }
        return ["approved": true, "asked": true]
    }

    /// Loads the named plan, validates its inputs, and runs its steps inside this run (same
    /// events, budgets and cancellation; its step ids are prefixed `call_step.`).
    func runCall(_ call: CallStep, step: Step, scope: Scope) async throws -> JSONValue {
        guard callDepth < Self.maxCallDepth else {
            throw RunFailure(.callFailed, "plans call each other more than \(Self.maxCallDepth) deep", step: step.id)
        }
        let catalog = engine.configuration.catalog
        guard let path = catalog.resolve(call.plan, besides: plan.source.path) else {
            throw RunFailure(.callFailed, "no plan '\(call.plan)' (looked beside \(plan.source.path) and in \(catalog.directories))", step: step.id)
        }
        let child: Plan
        do {
            child = try PlanLoader(catalog: catalog).load(path: path)
        } catch {
            throw RunFailure(.callFailed, "plan '\(call.plan)' is invalid: \(error.description)", step: step.id)
        }
        let given = try call.inputs.map { value throws(RunFailure) in try scope.evaluate(value, step: step.id) } ?? .object(JSONObject())
        let inputs: JSONValue
        do {
            inputs = try RunInputs.prepare(
                given, schema: child.inputSchema, validator: try? context.schemas.compiled(child.inputSchema), schemaInputs: child.schemaInputs)
        } catch {
            throw RunFailure(.callFailed, "inputs for plan '\(call.plan)': \(error.errors.map(\.description).joined(separator: "; "))", step: step.id)
        }
        let interpreter = Interpreter(plan: child, context: context, engine: engine, callDepth: callDepth + 1)
        var childScope = Scope(inputs: inputs, schema: child.inputSchema)
        childScope.eventPrefix = scope.eventPrefix + step.id + "."
        childScope.path = scope.path
        childScope.item = scope.item
        childScope.iteration = scope.iteration
        try await interpreter.runSteps(child.steps, in: &childScope)
        guard let output = child.output else {
            var all = JSONObject()
            for childStep in child.steps { all[childStep.id] = childScope.output(of: childStep.id) ?? .null }
            return .object(all)
        }
        return try childScope.evaluate(output.value, step: step.id)
    }
}
