/// A schema that cannot be compiled: an unresolvable `$ref`, a keyword with a wrong-typed
/// value, a `pattern` that is not a regular expression or that needs backtracking
/// (backreferences, lookaround), which the linear-time engine refuses.
public struct SchemaError: Error, Sendable, CustomStringConvertible {
    /// What is wrong, in words.
    public var message: String
    /// Where in the schema document: a JSON pointer from the root of the document that
    /// holds the bad keyword (the compiled schema, or a registered one named in `message`).
    public var schemaPath: JSONPointer

    public init(message: String, schemaPath: JSONPointer) {
        self.message = message
        self.schemaPath = schemaPath
    }

    public var description: String {
        "invalid schema: \(message) (at \(schemaPath.tokens.isEmpty ? "/" : schemaPath.description))"
    }
}

/// One way an instance fails its schema.
public struct SchemaValidationError: Sendable, Hashable, CustomStringConvertible {
    /// Where in the instance (a property that should not be there is reported at that property).
    public var instancePath: JSONPointer
    /// The keyword that failed, e.g. `required`, `type`, `additionalProperties`.
    public var keyword: String
    /// The failed keyword's location: a JSON pointer into the schema document that holds it
    /// (for `$ref` targets in the same document that is the target's own place, not the
    /// path through the `$ref`, so it can be looked up in the schema file directly).
    public var schemaPath: JSONPointer
    /// What is wrong, for people: "missing required property 'task'".
    public var message: String

    public init(instancePath: JSONPointer, keyword: String, schemaPath: JSONPointer, message: String) {
        self.instancePath = instancePath
        self.keyword = keyword
        self.schemaPath = schemaPath
        self.message = message
    }

    public var description: String {
        "\(message) (at \(instancePath.tokens.isEmpty ? "/" : instancePath.description))"
    }
}
