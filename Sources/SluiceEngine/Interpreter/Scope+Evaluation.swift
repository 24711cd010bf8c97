import SluiceJSON
import SluicePlan

/// Evaluating a plan's expressions, templates and values in a scope.
///
/// Errors name the step and the expression's source, so a failing run says exactly what went
/// wrong where (`step 'sources': expression 'steps.evidence.output' …`).
extension Scope {
    @inline(never)
    func evaluate(_ expression: PlanExpression, step: String) throws(RunFailure) -> JSONValue {
        do {
            return try expression.compiled.evaluate(bindings(for: expression)).toJSON()
        } catch {
            throw RunFailure(.expressionError, "expression '\(expression.source)' (at \(expression.pointer)): \(error.message)", step: step)
        }
    }

    @inline(never)
    func evaluateBool(_ expression: PlanExpression, step: String) throws(RunFailure) -> Bool {
        let value = try evaluate(expression, step: step)
        guard let bool = value.boolValue else {
            throw RunFailure(.expressionError, "expression '\(expression.source)' (at \(expression.pointer)) gave \(value.typeName) \(value.serialized()), expected a boolean", step: step)
        }
        return bool
    }

    @inline(never)
    func evaluateList(_ expression: PlanExpression, step: String) throws(RunFailure) -> [JSONValue] {
        let value = try evaluate(expression, step: step)
        guard let list = value.arrayValue else {
            throw RunFailure(.expressionError, "expression '\(expression.source)' (at \(expression.pointer)) gave \(value.typeName), expected a list", step: step)
        }
        return list
    }

    /// Renders a template; one whose compiling was deferred (a validated plan) compiles now.
    @inline(never)
    func render(_ template: TemplateText, step: String) throws(RunFailure) -> String {
        do {
            return try template.compiled().render(json)
        } catch {
            throw RunFailure(.expressionError, "template at \(template.pointer) does not compile: \(error.message)", step: step)
        }
    }

    /// The JSON a plan value stands for: literals as written, `${…}` evaluated, templates rendered.
    @inline(never)
    func evaluate(_ value: PlanValue, step: String) throws(RunFailure) -> JSONValue {
        switch value {
        case .literal(let json):
            return json
        case .expression(let expression):
            return try evaluate(expression, step: step)
        case .template(let template):
            return .string(try render(template, step: step))
        case .array(let items):
            var result: [JSONValue] = []
            result.reserveCapacity(items.count)
            for item in items { result.append(try evaluate(item, step: step)) }
            return .array(result)
        case .object(let members):
            var result = JSONObject()
            result.reserveCapacity(members.count)
            for (key, member) in members { result[key] = try evaluate(member, step: step) }
            return .object(result)
        }
    }

    /// A numeric setting's value; `field` names it in errors.
    @inline(never)
    func number(_ setting: NumberSetting, field: String, step: String) throws(RunFailure) -> Double {
        switch setting {
        case .literal(let value):
            return value
        case .expression(let expression):
            let value = try evaluate(expression, step: step)
            guard let number = value.doubleValue, number.isFinite else {
                throw RunFailure(.expressionError, "\(field) '\(expression.source)' gave \(value.typeName), expected a number", step: step)
            }
            return number
        }
    }

    /// A whole-number setting, at least `minimum`.
    @inline(never)
    func count(_ setting: NumberSetting, field: String, minimum: Int, step: String) throws(RunFailure) -> Int {
        let value = try number(setting, field: field, step: step)
        guard value == value.rounded(), value >= Double(minimum), value <= 1e9 else {
            throw RunFailure(.expressionError, "\(field) is \(value), expected a whole number of at least \(minimum)", step: step)
        }
        return Int(value)
    }
}
