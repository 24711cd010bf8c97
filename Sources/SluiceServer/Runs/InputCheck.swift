public import SluiceJSON
public import SluiceEngine

/// The engine's input check (``RunInputs``), with its problems as invalid call arguments.
public enum InputCheck {
    /// The inputs with defaults filled in, or every problem found; `schemaInputs` are inputs
    /// that must compile as JSON Schemas (``Plan/schemaInputs``).
    public static func prepare(_ inputs: JSONValue, schema: JSONValue, schemaInputs: [String] = []) -> Result<JSONValue, InputProblems> {
        do {
            return .success(try RunInputs.prepare(inputs, schema: schema, schemaInputs: schemaInputs))
        } catch {
            return .failure(InputProblems(fields: error.errors))
        }
    }
}

/// Every invalid field of a call's arguments: the engine's ``InputError``s, by field name (an
/// empty name for the arguments as a whole), as the HTTP and MCP answers show them.
public struct InputProblems: Error, Sendable, CustomStringConvertible {
    public var fields: [InputError]

    public init(fields: [InputError]) {
        self.fields = fields
    }

    /// Each problem as `field: message` (the message alone for the arguments as a whole).
    public var lines: [String] {
        fields.map { $0.name.isEmpty ? $0.message : "\($0.name): \($0.message)" }
    }

    public var description: String {
        "invalid arguments: " + lines.joined(separator: "; ")
    }

    /// `[{field, message}]`.
    public var jsonValue: JSONValue {
        .array(fields.map { ["field": .string($0.name), "message": .string($0.message)] })
    }
}
