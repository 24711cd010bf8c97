import SluiceJSON

/// Plan schemas as JSON Schema 2020-12, the dialect MCP 2026-07-28 assumes when a schema names
/// none. Plan authors may write draft-07 habits (`definitions`, tuple `items`); those are
/// rewritten to their 2020-12 spelling so a strict client reads the same constraints.
enum SchemaDialect {
    static func draft2020(_ schema: JSONValue) -> JSONValue {
        guard case .object(var object) = schema else { return schema }
        if let declared = object["$schema"]?.stringValue, !declared.contains("2020-12") {
            // Rewritten below, so the declaration of an older dialect no longer holds.
            object["$schema"] = nil
        }
        if let definitions = object["definitions"], object["$defs"] == nil {
            object["$defs"] = definitions
            object["definitions"] = nil
        }
        if let ref = object["$ref"]?.stringValue, ref.hasPrefix("#/definitions/") {
            object["$ref"] = .string("#/$defs/" + ref.dropFirst("#/definitions/".count))
        }
        if case .array(let tuple) = object["items"] {
            object["prefixItems"] = .array(tuple)
            object["items"] = object["additionalItems"]
            object["additionalItems"] = nil
        }
        var result = JSONObject()
        for key in object.keys {
            guard let value = object[key] else { continue }
            result[key] = convert(value, under: key)
        }
        return .object(result)
    }

    /// Subschemas converted, keyed values (`properties`, `$defs`) member by member; data
    /// (`enum`, `const`, `default`, `examples`) left as is.
    private static func convert(_ value: JSONValue, under key: String) -> JSONValue {
        switch key {
        case "properties", "patternProperties", "$defs", "dependentSchemas":
            guard case .object(let members) = value else { return value }
            return .object(JSONObject(members.keys.map { ($0, draft2020(members[$0] ?? .null)) }))
        case "items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames", "unevaluatedItems", "unevaluatedProperties":
            return draft2020(value)
        case "allOf", "anyOf", "oneOf", "prefixItems":
            guard case .array(let items) = value else { return value }
            return .array(items.map(draft2020))
        default:
            return value
        }
    }
}
