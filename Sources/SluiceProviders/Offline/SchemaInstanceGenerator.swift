import Foundation
public import SluiceJSON

/// Builds a JSON value that is valid against a JSON Schema, for the simulated model.
///
/// Covers what structured-output schemas use: `type` (one or a list), `properties`/`required`,
/// `items`/`prefixItems` with `minItems`/`maxItems` (3 items unless bounded otherwise), `enum`,
/// `const`, number bounds (`minimum`, `maximum`, the exclusive ones, `multipleOf` for integers),
/// string `minLength`/`maxLength`/`format` (date, date-time, uri, email, uuid), `anyOf`/`oneOf`
/// (the first branch), `allOf` (object branches merged) and local `$ref`s (`#/$defs/…`).
/// Strings are placeholders shaped by the property's name (`url`, `title`, `date`, `query`, …)
/// and by `topic`. Not covered: `pattern`, `not`, `if`/`then`, `dependentSchemas`.
public struct SchemaInstanceGenerator: Sendable {
    /// Words from the prompt that placeholder text talks about (e.g. "AI agents").
    public var topic: String
    /// Array length when the schema does not bound it.
    public var defaultArrayCount: Int
    /// Nesting depth past which only required members and minimal arrays are generated,
    /// so recursive schemas end.
    public var maxDepth: Int
    /// Fields for objects whose schema lists none (`{"type": "object"}`), e.g. the item fields an
    /// extraction prompt describes: name and JSON type.
    public var describedFields: [(name: String, type: String)]
    /// Sentences to quote in fields such as `evidence` (e.g. from the document in the prompt).
    public var quotes: [String]

    public init(
        topic: String, defaultArrayCount: Int = 3, maxDepth: Int = 8,
        describedFields: [(name: String, type: String)] = [], quotes: [String] = []
    ) {
        self.topic = topic.isEmpty ? "the topic" : topic
        self.defaultArrayCount = defaultArrayCount
        self.maxDepth = maxDepth
        self.describedFields = describedFields
        self.quotes = quotes
    }

    /// A value valid against `schema` (a schema whose `$ref`s point inside itself).
    public func instance(of schema: JSONValue) -> JSONValue {
        var context = Context(root: schema)
        return generate(schema, name: nil, ordinal: 1, depth: 0, context: &context)
    }

    struct Context {
        var root: JSONValue
        /// How many strings each property name produced so far, to keep placeholders distinct.
        var counters: [String: Int] = [:]
    }

    func generate(_ schema: JSONValue, name: String?, ordinal: Int, depth: Int, context: inout Context) -> JSONValue {
        guard case .object(let s) = schema else {
            // `true` or `{}` accepts anything; `false` accepts nothing, so any value is as good as another.
            return .string(placeholder(name: name, ordinal: ordinal, schema: [:]))
        }
        if let ref = s["$ref"]?.stringValue, let target = resolve(ref, in: context.root), depth < maxDepth * 2 {
            return generate(target, name: name, ordinal: ordinal, depth: depth + 1, context: &context)
        }
        if let constant = s["const"] { return constant }
        if let options = s["enum"]?.arrayValue, let first = options.first {
            // Vary the choice along an array so lists of enums do not all repeat the first value.
            return options.isEmpty ? first : options[(ordinal - 1) % options.count]
        }
        if let branches = (s["anyOf"] ?? s["oneOf"])?.arrayValue, let first = branches.first {
            return generate(merged(first, into: s, dropping: ["anyOf", "oneOf"]), name: name, ordinal: ordinal, depth: depth + 1, context: &context)
        }
        if let all = s["allOf"]?.arrayValue, !all.isEmpty {
            var combined = s
            combined["allOf"] = nil
            for branch in all { combined = mergeObjects(combined, branch) }
            return generate(.object(combined), name: name, ordinal: ordinal, depth: depth + 1, context: &context)
        }
        switch chosenType(s) {
        case "object": return object(s, ordinal: ordinal, depth: depth, context: &context)
        case "array": return array(s, name: name, depth: depth, context: &context)
        case "integer": return integer(s, name: name, ordinal: ordinal)
        case "number": return number(s, name: name, ordinal: ordinal)
        case "boolean": return .bool(true)
        case "null": return .null
        default:
            let key = name ?? "_"
            context.counters[key, default: 0] += 1
            return .string(placeholder(name: name, ordinal: context.counters[key] ?? ordinal, schema: s))
        }
    }

    /// The type to generate: the schema's `type` (the first non-null one of a list), else guessed from its keywords.
    private func chosenType(_ s: JSONObject) -> String {
        if let type = s["type"]?.stringValue { return type }
        if let types = s["type"]?.arrayValue?.compactMap(\.stringValue) {
            return types.first { $0 != "null" } ?? types.first ?? "string"
        }
        if s["properties"] != nil || s["required"] != nil { return "object" }
        if s["items"] != nil || s["prefixItems"] != nil { return "array" }
        if s["minimum"] != nil || s["maximum"] != nil { return "number" }
        return "string"
    }

    private func object(_ s: JSONObject, ordinal: Int, depth: Int, context: inout Context) -> JSONValue {
        var properties = s["properties"]?.objectValue ?? JSONObject()
        // Described fields fill the item objects, not objects nested in a described field.
        if properties.isEmpty, s["additionalProperties"]?.boolValue != false, s["x-described"] == nil {
            for field in describedFields {
                properties[field.name] = ["type": .string(field.type), "x-ordinal": .integer(Int64(ordinal)), "x-described": true]
            }
        }
        let required = Set(s["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        var result = JSONObject()
        for (key, propertySchema) in properties where depth < maxDepth || required.contains(key) {
            result[key] = generate(propertySchema, name: key, ordinal: 1, depth: depth + 1, context: &context)
        }
        // Required names without a property schema still need a value.
        for key in s["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where result[key] == nil {
            let extra = s["additionalProperties"] ?? .object(JSONObject())
            result[key] = generate(extra, name: key, ordinal: 1, depth: depth + 1, context: &context)
        }
        return .object(result)
    }

    private func array(_ s: JSONObject, name: String?, depth: Int, context: inout Context) -> JSONValue {
        let prefix = s["prefixItems"]?.arrayValue ?? []
        let minItems = s["minItems"]?.integerValue.map { Int($0) } ?? 0
        let maxItems = s["maxItems"]?.integerValue.map { Int($0) } ?? Int.max
        let wanted = depth < maxDepth ? defaultArrayCount : minItems
        var count = min(max(wanted, minItems, prefix.isEmpty ? 0 : min(prefix.count, maxItems)), maxItems)
        if s["items"]?.boolValue == false { count = min(count, prefix.count) }
        let itemName = name.map(Self.singular)
        var items: [JSONValue] = []
        for index in 0..<count {
            let itemSchema = index < prefix.count ? prefix[index] : (s["items"] ?? .object(JSONObject()))
            items.append(generate(itemSchema, name: itemName, ordinal: index + 1, depth: depth + 1, context: &context))
        }
        return .array(items)
    }

    private func integer(_ s: JSONObject, name: String?, ordinal: Int) -> JSONValue {
        var low = s["minimum"]?.doubleValue.map { $0.rounded(.up) } ?? -Double.infinity
        var high = s["maximum"]?.doubleValue.map { $0.rounded(.down) } ?? Double.infinity
        if let e = s["exclusiveMinimum"]?.doubleValue { low = max(low, (e + 1).rounded(.down)) }
        if let e = s["exclusiveMaximum"]?.doubleValue { high = min(high, (e - 1).rounded(.up)) }
        let preferred = Double(Self.preferredInteger(name: name, ordinal: ordinal))
        var value = min(max(preferred, low), high)
        if let step = s["multipleOf"]?.doubleValue, step > 0 {
            let up = (value / step).rounded(.up) * step
            value = up <= high ? up : (value / step).rounded(.down) * step
        }
        return .integer(Int64(value.isFinite ? value : 0))
    }

    private func number(_ s: JSONObject, name: String?, ordinal: Int) -> JSONValue {
        let low = s["minimum"]?.doubleValue ?? s["exclusiveMinimum"]?.doubleValue
        let high = s["maximum"]?.doubleValue ?? s["exclusiveMaximum"]?.doubleValue
        let value: Double
        switch (low, high) {
        case let (low?, high?): value = low + (high - low) * 0.7
        case let (low?, nil): value = low + 1.5
        case let (nil, high?): value = high - 1.5
        case (nil, nil): value = Double(Self.preferredInteger(name: name, ordinal: ordinal)) + 0.5
        }
        if let step = s["multipleOf"]?.doubleValue, step > 0 {
            let rounded = (value / step).rounded() * step
            return .double(rounded)
        }
        return .double((value * 100).rounded() / 100)
    }

    private static func preferredInteger(name: String?, ordinal: Int) -> Int {
        let lowered = name?.lowercased() ?? ""
        if lowered.contains("year") { return 2026 }
        if lowered.contains("index") || lowered.contains("position") { return ordinal - 1 }
        return 2 + ordinal
    }

    // MARK: Schema plumbing

    /// The schema a local `$ref` (`#`, `#/$defs/x`, `#/definitions/x`) points at.
    private func resolve(_ ref: String, in root: JSONValue) -> JSONValue? {
        guard ref.hasPrefix("#") else { return nil }
        var node = root
        for token in ref.dropFirst().split(separator: "/") {
            let key = token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            if let member = node[key] {
                node = member
            } else if let index = Int(key), let element = node[index] {
                node = element
            } else {
                return nil
            }
        }
        return node
    }

    private func merged(_ branch: JSONValue, into s: JSONObject, dropping keys: [String]) -> JSONValue {
        var base = s
        for key in keys { base[key] = nil }
        return .object(mergeObjects(base, branch))
    }

    private func mergeObjects(_ base: JSONObject, _ branch: JSONValue) -> JSONObject {
        guard let extra = branch.objectValue else { return base }
        var result = base
        for (key, value) in extra {
            switch (key, result[key], value) {
            case ("properties", .object(let a)?, .object(let b)):
                var both = a
                for (k, v) in b { both[k] = v }
                result[key] = .object(both)
            case ("required", .array(let a)?, .array(let b)):
                result[key] = .array(a + b.filter { !a.contains($0) })
            default:
                result[key] = value
            }
        }
        return result
    }

    static func singular(_ name: String) -> String {
        if name.hasSuffix("ies") { return String(name.dropLast(3)) + "y" }
        if name.hasSuffix("ses") { return String(name.dropLast(2)) }
        if name.hasSuffix("s") && !name.hasSuffix("ss") { return String(name.dropLast()) }
        return name
    }
}
