public import SluiceJSON
import SluiceEngine

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

/// The engine's input check (``RunInputs``), with its problems as invalid call arguments.
public enum InputCheck {
    /// The inputs with defaults filled in, or every problem found.
    public static func prepare(_ inputs: JSONValue, schema: JSONValue) -> Result<JSONValue, InputProblems> {
        do {
            return .success(try RunInputs.prepare(inputs, schema: schema))
        } catch {
            return .failure(InputProblems(fields: error.errors.map { InvalidField(field: $0.name, message: $0.message) }))
        }
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
