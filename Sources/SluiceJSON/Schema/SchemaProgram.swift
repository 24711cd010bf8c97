/// A schema compiled once: a flat table of nodes that refer to each other by index,
/// so recursive schemas (`$ref: "#"`) need no reference cycles.
struct SchemaProgram: Sendable {
    var nodes: [SchemaNode]
    var root: Int
    /// Per resource number: its `$dynamicAnchor`s, compiled, for `$dynamicRef` resolution.
    var dynamicAnchors: [Int: [String: Int]]
}

/// One compiled schema: `true`, `false`, or the keywords an object schema applies.
struct SchemaNode: Sendable {
    /// Where the schema is, for error reports (`schemaPath`).
    var pointer: JSONPointer
    /// The schema resource it belongs to, for the dynamic scope of `$dynamicRef`.
    var resource: Int
    var body: Body
    /// Whether it has `unevaluatedItems`/`unevaluatedProperties`, so must collect annotations.
    var collectsAnnotations: Bool

    enum Body: Sendable {
        case always(Bool)
        case keywords([SchemaKeyword])
    }
}

/// The JSON types `type` can name.
struct JSONTypes: OptionSet, Sendable {
    let rawValue: UInt8
    static let null = JSONTypes(rawValue: 1 << 0)
    static let boolean = JSONTypes(rawValue: 1 << 1)
    static let integer = JSONTypes(rawValue: 1 << 2)
    static let number = JSONTypes(rawValue: 1 << 3)
    static let string = JSONTypes(rawValue: 1 << 4)
    static let array = JSONTypes(rawValue: 1 << 5)
    static let object = JSONTypes(rawValue: 1 << 6)

    static let names: [(String, JSONTypes)] = [
        ("null", .null), ("boolean", .boolean), ("integer", .integer), ("number", .number),
        ("string", .string), ("array", .array), ("object", .object),
    ]

    func contains(typeOf value: JSONValue) -> Bool {
        switch value {
        case .null: contains(.null)
        case .bool: contains(.boolean)
        case .integer: contains(.integer) || contains(.number)
        case .double: contains(.number) || (contains(.integer) && value.typeName == "integer")
        case .string: contains(.string)
        case .array: contains(.array)
        case .object: contains(.object)
        }
    }

    var names: [String] { Self.names.filter { contains($0.1) }.map(\.0) }
}

/// A `$dynamicRef`: its static target, and the anchor name to look up in the dynamic scope
/// when the static target declares a matching `$dynamicAnchor`.
struct DynamicReference: Sendable {
    var target: Int
    var anchor: String?
}

/// One compiled keyword. Subschemas are node indices into `SchemaProgram.nodes`.
enum SchemaKeyword: Sendable {
    case type(JSONTypes)
    case enumeration([JSONValue])
    case constant(JSONValue)
    case multipleOf(JSONValue)
    case maximum(JSONValue)
    case exclusiveMaximum(JSONValue)
    case minimum(JSONValue)
    case exclusiveMinimum(JSONValue)
    case maxLength(Int)
    case minLength(Int)
    case pattern(SchemaPattern)
    case maxItems(Int)
    case minItems(Int)
    case uniqueItems
    case maxProperties(Int)
    case minProperties(Int)
    case required([String])
    case dependentRequired([(property: String, requires: [String])])
    case ref(Int)
    case dynamicRef(DynamicReference)
    case allOf([Int])
    case anyOf([Int])
    case oneOf([Int])
    case not(Int)
    case conditional(if: Int, then: Int?, else: Int?)
    case dependentSchemas([(property: String, schema: Int)])
    case prefixItems([Int])
    case items(Int, after: Int)
    case contains(Int, min: Int, max: Int?)
    case properties([String: Int])
    case patternProperties([(pattern: SchemaPattern, schema: Int)])
    case additionalProperties(Int, named: Set<String>, patterns: [SchemaPattern])
    case propertyNames(Int)
    case unevaluatedItems(Int)
    case unevaluatedProperties(Int)

    var isUnevaluated: Bool {
        switch self {
        case .unevaluatedItems, .unevaluatedProperties: true
        default: false
        }
    }

    /// The keyword as spelled in the schema, for `schemaPath` and `keyword` in errors.
    var name: String {
        switch self {
        case .type: "type"
        case .enumeration: "enum"
        case .constant: "const"
        case .multipleOf: "multipleOf"
        case .maximum: "maximum"
        case .exclusiveMaximum: "exclusiveMaximum"
        case .minimum: "minimum"
        case .exclusiveMinimum: "exclusiveMinimum"
        case .maxLength: "maxLength"
        case .minLength: "minLength"
        case .pattern: "pattern"
        case .maxItems: "maxItems"
        case .minItems: "minItems"
        case .uniqueItems: "uniqueItems"
        case .maxProperties: "maxProperties"
        case .minProperties: "minProperties"
        case .required: "required"
        case .dependentRequired: "dependentRequired"
        case .ref: "$ref"
        case .dynamicRef: "$dynamicRef"
        case .allOf: "allOf"
        case .anyOf: "anyOf"
        case .oneOf: "oneOf"
        case .not: "not"
        case .conditional: "if"
        case .dependentSchemas: "dependentSchemas"
        case .prefixItems: "prefixItems"
        case .items: "items"
        case .contains: "contains"
        case .properties: "properties"
        case .patternProperties: "patternProperties"
        case .additionalProperties: "additionalProperties"
        case .propertyNames: "propertyNames"
        case .unevaluatedItems: "unevaluatedItems"
        case .unevaluatedProperties: "unevaluatedProperties"
        }
    }
}
