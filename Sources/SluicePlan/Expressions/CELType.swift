public import SluiceJSON

/// A static type, for checking expressions before they run.
///
/// Besides CEL's own types there is ``object(_:closed:)``: a JSON object whose properties are
/// known from a JSON Schema (plan inputs, a step's output schema). At run time it is a map with
/// string keys. ``dyn`` is "unknown": anything goes, and the check happens at run time.
public indirect enum CELType: Sendable, Hashable {
    case dyn
    case int, uint, double, bool, string, bytes
    case null
    /// The type of type values (`type(x)`, `int`).
    case type
    case list(CELType)
    case map(key: CELType, value: CELType)
    /// A JSON object with these known properties; `closed` when no other property can exist.
    case object([String: CELType], closed: Bool)
}

extension CELType: CustomStringConvertible {
    public var description: String {
        switch self {
        case .dyn: "dyn"
        case .int: "int"
        case .uint: "uint"
        case .double: "double"
        case .bool: "bool"
        case .string: "string"
        case .bytes: "bytes"
        case .null: "null_type"
        case .type: "type"
        case .list(let element): "list(\(element))"
        case .map(let key, let value): "map(\(key), \(value))"
        case .object: "map(string, dyn)"
        }
    }
}

extension CELType {
    /// The type of a JSON value described by `schema` (JSON Schema 2020-12), as far as it can be
    /// known: `type` gives `string`, `int` (`integer`), `double` (`number`), `bool`, `null_type`,
    /// `list(…)` from `items` and objects from `properties`; unions, references and combinators
    /// give `dyn`.
    ///
    /// JSON numbers declared `number` are typed `double`; bind them with ``CELValue/init(json:as:)``
    /// so that a whole number such as `8` arrives as `8.0`.
    public init(jsonSchema schema: JSONValue) {
        guard case .object(let object) = schema else {
            self = .dyn  // `true`, `false` or something that is not a schema
            return
        }
        var declared = object["type"]?.stringValue
        if declared == nil, case .array(let types)? = object["type"] {
            // ["string", "null"] and other unions: only the non-null member matters for checks.
            let names = types.compactMap(\.stringValue).filter { $0 != "null" }
            if names.count == 1 { declared = names[0] }
        }
        if declared == nil {
            if object["properties"] != nil { declared = "object" } else if object["items"] != nil { declared = "array" }
        }
        switch declared {
        case "string": self = .string
        case "integer": self = .int
        case "number": self = .double
        case "boolean": self = .bool
        case "null": self = .null
        case "array":
            self = .list(object["items"].map(CELType.init(jsonSchema:)) ?? .dyn)
        case "object":
            var fields: [String: CELType] = [:]
            for (name, property) in object["properties"]?.objectValue ?? JSONObject() {
                fields[name] = CELType(jsonSchema: property)
            }
            let additional = object["additionalProperties"]
            if fields.isEmpty, let additional, additional.boolValue == nil {
                self = .map(key: .string, value: CELType(jsonSchema: additional))
            } else {
                self = .object(fields, closed: additional?.boolValue == false)
            }
        default:
            self = .dyn
        }
    }

    /// Parses CEL type syntax: `int`, `list(string)`, `map(string, dyn)`, `type(int)`, ….
    public init?(parsing text: String) {
        let trimmed = text.trimmingSpaces
        func arguments(_ prefix: String) -> [String]? {
            guard trimmed.hasPrefix(prefix + "("), trimmed.hasSuffix(")") else { return nil }
            let inner = trimmed.dropFirst(prefix.count + 1).dropLast()
            var parts: [String] = [], depth = 0, current = ""
            for c in inner {
                if c == "(" { depth += 1 } else if c == ")" { depth -= 1 }
                if c == "," && depth == 0 { parts.append(current); current = "" } else { current.append(c) }
            }
            parts.append(current)
            return parts
        }
        switch trimmed {
        case "dyn": self = .dyn
        case "int": self = .int
        case "uint": self = .uint
        case "double": self = .double
        case "bool": self = .bool
        case "string": self = .string
        case "bytes": self = .bytes
        case "null_type": self = .null
        case "type": self = .type
        default:
            if let parts = arguments("list"), parts.count == 1, let element = CELType(parsing: parts[0]) {
                self = .list(element)
            } else if let parts = arguments("map"), parts.count == 2, let key = CELType(parsing: parts[0]),
                let value = CELType(parsing: parts[1])
            {
                self = .map(key: key, value: value)
            } else if let parts = arguments("type"), parts.count == 1, CELType(parsing: parts[0]) != nil {
                self = .type
            } else {
                return nil
            }
        }
    }

    var isNumeric: Bool { self == .int || self == .uint || self == .double }
}

extension String {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}

/// The variables an expression may use, with their types.
///
/// A plan's validator declares `inputs` (from the inputs schema), `steps` (an object of the steps
/// visible at that point, each `{output: …}`), and inside bodies `item`, `index` and `loop`.
public struct CELTypeEnvironment: Sendable {
    public var variables: [String: CELType]

    public init(variables: [String: CELType] = [:]) {
        self.variables = variables
    }
}

extension CELValue {
    /// The CEL value of a JSON value typed by `type`: like ``init(json:)``, except that numbers
    /// take the declared kind when they can: `8` where `type` says `double` becomes `8.0` (JSON
    /// Schema `number`), and `3.0` where it says `int` becomes `3` (`integer`).
    public init(json: JSONValue, as type: CELType) {
        switch (json, type) {
        case (.integer(let i), .double): self = .double(Double(i))
        case (.double(let d), .int) where d == d.rounded(.towardZero) && d >= -9.2e18 && d <= 9.2e18:
            self = .int(Int64(d))
        case (.array(let elements), .list(let element)):
            self = .list(elements.map { CELValue(json: $0, as: element) })
        case (.object(let object), .object(let fields, _)):
            self = .map(CELMap(object.members.map { (.string($0.key), CELValue(json: $0.value, as: fields[$0.key] ?? .dyn)) }))
        case (.object(let object), .map(_, let value)):
            self = .map(CELMap(object.members.map { (.string($0.key), CELValue(json: $0.value, as: value)) }))
        default: self = CELValue(json: json)
        }
    }
}
