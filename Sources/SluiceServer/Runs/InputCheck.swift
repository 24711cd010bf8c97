public import SluiceJSON

/// One invalid argument of a call, by name (`days`), or the arguments as a whole (empty name).
public struct InvalidField: Sendable, Hashable, CustomStringConvertible {
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { field.isEmpty ? message : "\(field): \(message)" }
}

/// Applies an input schema's defaults and lists every invalid field, before a run starts.
public enum InputCheck {
    /// The inputs with defaults filled in, or every problem found.
    public static func prepare(_ inputs: JSONValue, schema: JSONValue) -> Result<JSONValue, InputProblems> {
        guard case .object(var object) = inputs else {
            return .failure(InputProblems(fields: [InvalidField(field: "", message: "expected an object of arguments, got \(inputs.typeName)")]))
        }
        for (name, property) in schema["properties"]?.objectValue ?? JSONObject() where object[name] == nil {
            if let value = property["default"] { object[name] = value }
        }
        let prepared = JSONValue.object(object)
        let validator: JSONSchema
        do {
            validator = try JSONSchema(schema)
        } catch {
            return .failure(InputProblems(fields: [InvalidField(field: "", message: "the plan's input schema is unusable: \(error)")]))
        }
        var seen = Set<InvalidField>()
        let fields = validator.validate(prepared).map { error -> InvalidField in
            if let name = error.instancePath.tokens.first {
                let rest = error.instancePath.tokens.dropFirst()
                let path = rest.isEmpty ? name : name + "/" + rest.joined(separator: "/")
                return InvalidField(field: path, message: error.message)
            }
            if error.keyword == "required", let name = quoted(in: error.message) {
                return InvalidField(field: name, message: "is required")
            }
            if error.keyword == "additionalProperties" || error.keyword == "unevaluatedProperties", let name = quoted(in: error.message) {
                return InvalidField(field: name, message: "is not an input of this tool")
            }
            return InvalidField(field: "", message: error.message)
        }.filter { seen.insert($0).inserted }
        return fields.isEmpty ? .success(prepared) : .failure(InputProblems(fields: fields))
    }

    /// The first `'…'`-quoted name in a validator message.
    private static func quoted(in message: String) -> String? {
        let parts = message.split(separator: "'", omittingEmptySubsequences: false)
        return parts.count >= 3 ? String(parts[1]) : nil
    }
}

/// Every invalid field of a call's arguments.
public struct InputProblems: Error, Sendable, CustomStringConvertible {
    public var fields: [InvalidField]

    public init(fields: [InvalidField]) {
        self.fields = fields
    }

    public var description: String {
        "invalid arguments: " + fields.map(\.description).joined(separator: "; ")
    }

    public var jsonValue: JSONValue {
        .array(fields.map { ["field": .string($0.field), "message": .string($0.message)] })
    }
}
