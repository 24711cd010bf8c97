public import SluiceJSON

/// One problem with a run's inputs, by input name.
public struct InputError: Sendable, Hashable, CustomStringConvertible {
    /// The input's name (`days`); empty when the problem is with the inputs as a whole.
    public var name: String
    public var message: String

    public init(name: String, message: String) {
        self.name = name
        self.message = message
    }

    public var description: String { name.isEmpty ? "inputs: \(message)" : "input '\(name)': \(message)" }
}

/// Every problem with a run's inputs, listed by input name.
public struct InputErrors: Error, Sendable, CustomStringConvertible {
    public var errors: [InputError]

    public init(errors: [InputError]) {
        self.errors = errors
    }

    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

/// Applies the input schema's defaults and validates inputs, as every transport does before a run.
public enum RunInputs {
    /// The inputs with the defaults of missing top-level properties filled in, when they are valid.
    ///
    /// ```swift
    /// let inputs = try RunInputs.prepare(["task": "AI agents"], schema: plan.inputSchema)
    /// // {"task": "AI agents", "days": 7, …}
    /// ```
    ///
    /// #### Errors
    /// ``InputErrors`` listing every problem by input name: missing required inputs, wrong
    /// types, values out of range, unknown inputs (when the schema forbids them).
    ///
    /// - Parameters:
    ///   - validator: `schema` compiled already (the engine keeps its plans' schemas
    ///     compiled); nil to compile it here.
    ///   - schemaInputs: inputs that are themselves JSON Schemas (``Plan/schemaInputs``): each
    ///     must compile, so a `pattern` the linear-time engine refuses is an input error.
    public static func prepare(
        _ inputs: JSONValue, schema: JSONValue, validator compiled: JSONSchema? = nil, schemaInputs: [String] = []
    ) throws(InputErrors) -> JSONValue {
        guard case .object(var object) = inputs else {
            throw InputErrors(errors: [InputError(name: "", message: "expected an object of inputs, got \(inputs.typeName)")])
        }
        for (name, property) in schema["properties"]?.objectValue ?? JSONObject() where object[name] == nil {
            if let value = property["default"] { object[name] = value }
        }
        object.trimCapacity()
        let prepared = JSONValue.object(object)
        let validator: JSONSchema
        do {
            validator = try compiled ?? JSONSchema(schema)
        } catch {
            throw InputErrors(errors: [InputError(name: "", message: "the plan's input schema is unusable: \(error)")])
        }
        let problems = validator.validate(prepared).map { error -> InputError in
            // The validator reports an unknown member at the member itself.
            if error.keyword == "additionalProperties" || error.keyword == "unevaluatedProperties",
                error.instancePath.tokens.count == 1
            {
                return unknownInput(error.instancePath.tokens[0], schema: schema)
            }
            if !error.instancePath.tokens.isEmpty {
                // A nested problem is named by its path inside the input: `filters/0/year`.
                return InputError(name: error.instancePath.tokens.joined(separator: "/"), message: error.message)
            }
            if error.keyword == "required", let name = quoted(in: error.message) {
                return InputError(name: name, message: "is required")
            }
            return InputError(name: "", message: error.message)
        }
        var seen = Set<InputError>()
        let unique = (problems + schemaProblems(object, schemaInputs, besides: problems)).filter { seen.insert($0).inserted }
        guard unique.isEmpty else { throw InputErrors(errors: unique) }
        return prepared
    }

    /// The problem of an input the plan does not declare, suggesting the declared one it
    /// probably meant (`did you mean 'depth'?`).
    public static func unknownInput(_ name: String, schema: JSONValue) -> InputError {
        let declared = schema["properties"]?.objectValue?.members.map(\.key) ?? []
        return InputError(name: name, message: "is not an input of this plan" + NameSuggestion.didYouMean(name, among: declared))
    }

    /// Why each of `names` that is present, and has no other problem, is not a usable schema.
    private static func schemaProblems(_ inputs: JSONObject, _ names: [String], besides problems: [InputError]) -> [InputError] {
        names.compactMap { name -> InputError? in
            guard let value = inputs[name], !problems.contains(where: { $0.name == name }) else { return nil }
            do throws(SchemaError) {
                _ = try JSONSchema(value)
                return nil
            } catch {
                let place = error.schemaPath.tokens.isEmpty ? "/" : error.schemaPath.description
                return InputError(name: name, message: "is not a usable JSON Schema: \(error.message) (at \(place))")
            }
        }
    }

    /// The first `'…'`-quoted name in a message.
    private static func quoted(in message: String) -> String? {
        let parts = message.split(separator: "'", omittingEmptySubsequences: false)
        return parts.count >= 3 ? String(parts[1]) : nil
    }
}
