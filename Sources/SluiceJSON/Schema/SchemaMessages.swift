/// Every validation message in one place, so they stay consistent and easy to review.
enum SchemaMessages {
    static func type(expected: JSONTypes, actual: JSONValue) -> String {
        "expected \(expected.names.joined(separator: " or ")), got \(actual.typeName)"
    }

    static func enumeration(_ allowed: [JSONValue], actual: JSONValue) -> String {
        if allowed.count <= 8 {
            return "expected one of \(allowed.map(short).joined(separator: ", ")), got \(short(actual))"
        }
        return "\(short(actual)) is not one of the \(allowed.count) allowed values"
    }

    static func constant(_ expected: JSONValue, actual: JSONValue) -> String {
        "expected \(short(expected)), got \(short(actual))"
    }

    static func bound(_ relation: String, _ limit: JSONValue, actual: JSONValue) -> String {
        "must be \(relation) \(short(limit)), got \(short(actual))"
    }

    static func multipleOf(_ divisor: JSONValue, actual: JSONValue) -> String {
        "must be a multiple of \(short(divisor)), got \(short(actual))"
    }

    static func length(atLeast: Bool, _ limit: Int, actual: Int) -> String {
        "expected \(atLeast ? "at least" : "at most") \(counted(limit, "character")), got \(actual)"
    }

    static func pattern(_ source: String, actual: String) -> String {
        "\(short(.string(actual))) does not match the pattern '\(source)'"
    }

    static func itemCount(atLeast: Bool, _ limit: Int, actual: Int) -> String {
        "expected \(atLeast ? "at least" : "at most") \(counted(limit, "item")), got \(actual)"
    }

    static func duplicateItems(_ first: Int, _ second: Int) -> String {
        "items \(first) and \(second) are equal, but items must be unique"
    }

    static func propertyCount(atLeast: Bool, _ limit: Int, actual: Int) -> String {
        "expected \(atLeast ? "at least" : "at most") \(counted(limit, "property")), got \(actual)"
    }

    static func missingProperty(_ name: String) -> String {
        "missing required property '\(name)'"
    }

    static func dependentProperty(_ property: String, requires required: String) -> String {
        "property '\(property)' requires property '\(required)'"
    }

    static func contains(atLeast: Bool, _ limit: Int, actual: Int) -> String {
        if atLeast, limit == 1 { return "expected an item matching 'contains', got none" }
        return "expected \(atLeast ? "at least" : "at most") \(counted(limit, "item")) matching 'contains', got \(actual)"
    }

    static func unknownProperty(_ name: String, by keyword: String) -> String {
        "unknown property '\(name)' (not allowed by \(keyword))"
    }

    static func forbiddenProperty(_ name: String) -> String {
        "property '\(name)' is not allowed"
    }

    static func unexpectedItem(_ index: Int, by keyword: String) -> String {
        "unexpected item at index \(index) (not allowed by \(keyword))"
    }

    static func invalidPropertyName(_ name: String, reason: String?) -> String {
        guard let reason else { return "property name '\(name)' is not allowed" }
        return "property name '\(name)' is invalid: \(reason)"
    }

    static let falseSchema = "no value is allowed here"

    static let notSchema = "must not match the schema in 'not'"

    static func noAlternative(_ keyword: String, reasons: [String]) -> String {
        let shown = reasons.prefix(4).enumerated().map { "\($0.offset): \($0.element)" }
        var text = "does not match any of the \(keyword) alternatives"
        if !shown.isEmpty { text += " (" + shown.joined(separator: "; ") + (reasons.count > 4 ? "; …" : "") + ")" }
        return text
    }

    static func severalAlternatives(_ matches: [Int]) -> String {
        "matches \(matches.count) of the oneOf alternatives (\(matches.map(String.init).joined(separator: ", "))); expected exactly one"
    }

    static let tooDeep = "value is nested more than \(JSONSchema.maxInstanceDepth) levels deep; it is not validated further"

    static let referenceLoop = "the schema refers to itself without moving into the instance ($ref loop)"

    /// A value in a message: JSON text, cut short when long.
    static func short(_ value: JSONValue) -> String {
        let text = value.serialized(pretty: false)
        guard text.count > 60 else { return text }
        return text.prefix(57) + "…"
    }

    private static func counted(_ count: Int, _ noun: String) -> String {
        if count == 1 { return "1 \(noun)" }
        return noun == "property" ? "\(count) properties" : "\(count) \(noun)s"
    }
}
