import SluiceJSON
import SluicePlan

/// `validate`: each element of a list against a JSON Schema the run supplies.
extension Interpreter {
    /// Splits the list into elements the schema accepts and elements it rejects, each rejected
    /// one with every reason (`message (at /pointer)`); both keep the list's order. The schema
    /// is evaluated per run (it may be an input) and compiled once per process (``SchemaCache``);
    /// a schema that does not compile fails the step with the compiler's message.
    func runValidate(_ validate: ValidateStep, step: Step, scope: Scope) throws(RunFailure) -> JSONValue {
        let items = try scope.evaluateList(validate.items, step: step.id)
        let schemaValue = try scope.evaluate(validate.schema, step: step.id)
        let schema: JSONSchema
        do {
            schema = try context.schemas.compiled(schemaValue)
        } catch {
            throw RunFailure(.stepFailed, "the item schema is not a usable JSON Schema: \(error)", step: step.id)
        }
        var valid: [JSONValue] = []
        var rejected: [JSONValue] = []
        for item in items {
            let errors = schema.validate(item)
            if errors.isEmpty {
                valid.append(item)
            } else {
                rejected.append(["item": item, "errors": .array(errors.map { .string($0.description) })])
            }
        }
        return ["valid": .array(valid), "rejected": .array(rejected)]
    }
}
