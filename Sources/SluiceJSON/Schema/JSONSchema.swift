/// A JSON Schema (draft 2020-12), compiled once and reusable for any number of instances.
///
/// All references are resolved, and all patterns compiled, when the schema is created;
/// validation then only walks the instance. `format` is an annotation and is not checked,
/// as 2020-12 specifies by default.
///
/// ```swift
/// let schema = try JSONSchema(try JSONParser.parse(#"{"type": "object", "required": ["task"]}"#))
/// for error in schema.validate(try JSONParser.parse("{}")) {
///     print(error)   // missing required property 'task' (at /)
/// }
/// ```
///
/// #### Errors
/// - ``SchemaError`` from `init` when the schema itself is invalid (a keyword with a value of
///   the wrong type, an unresolvable `$ref`, a bad `pattern` or one with a backreference or
///   lookaround, which the linear-time pattern engine cannot run), with a pointer into the schema.
/// - ``SchemaValidationError``s from ``validate(_:)``, each naming the instance path and the
///   failed keyword.
///
/// #### How errors are reported
/// - Every failure is reported, in schema order (assertions, then members and items, then
///   `allOf`/`if`/`$ref` and the like), not only the first.
/// - A member that should not be there (`additionalProperties`/`unevaluatedProperties`/
///   `properties` with `false`) is reported at that member's path, so it can be shown at
///   its key; `required` is reported at the object.
/// - `schemaPath` is the keyword's place in the document that holds it (through a `$ref`,
///   the target's place), so `/$defs/llm/required` can be looked up in the schema file.
/// - An `anyOf`/`oneOf` that nothing matches gives the errors of the one plausible
///   alternative (right type, matching `const`/`enum` discriminator such as `kind`), else one
///   summary naming each alternative's first problem. `not` and `if` report nothing of
///   their own subschema.
/// - When an object already fails for another reason, `unevaluatedProperties` still flags
///   real unknown members but not those a failed subschema would have accepted; after a
///   failed `const`/`enum` discriminator it reports nothing (every field would look unknown).
/// - Values nested deeper than ``maxInstanceDepth`` fail with keyword `maxDepth`.
public struct JSONSchema: Sendable {
    private let program: SchemaProgram

    /// How deep validation follows nested arrays and objects. Validation recurses, so this
    /// bounds its stack use; a value nested deeper fails with keyword `maxDepth`.
    public static let maxInstanceDepth = 256

    /// Compiles `schema`.
    ///
    /// - Parameters:
    ///   - schema: the schema document (an object or a boolean).
    ///   - registry: other schemas its `$ref`s may name by URI; the 2020-12 meta-schemas
    ///     are always available.
    /// - Throws: ``SchemaError`` naming the problem and where it is in the schema.
    public init(_ schema: JSONValue, registry: SchemaRegistry = .init()) throws(SchemaError) {
        program = try SchemaCompiler.compile(schema, registry: registry)
    }

    /// Every way `instance` fails the schema; empty when it is valid.
    ///
    /// An `anyOf`/`oneOf` that nothing matches yields one summary error (or, when one
    /// alternative is clearly the intended one, that alternative's errors), not the errors
    /// of every alternative.
    public func validate(_ instance: JSONValue) -> [SchemaValidationError] {
        var evaluator = SchemaEvaluator(program: program)
        _ = evaluator.run(instance, report: true)
        return evaluator.errors
    }

    /// Whether `instance` is valid; stops at the first failure.
    public func isValid(_ instance: JSONValue) -> Bool {
        var evaluator = SchemaEvaluator(program: program)
        return evaluator.run(instance, report: false)
    }
}
