import Foundation
public import SluiceJSON

/// Turns `--input name=value` strings into typed inputs, using the plan's input schema.
///
/// The type comes from the property's schema: `integer` and `number` parse numbers, `boolean`
/// takes true/false (also yes/no, 1/0), `array`/`object` take JSON, `string` takes the text as
/// it is. A property without a type takes JSON when the text parses as JSON, else the text.
///
/// ```swift
/// let inputs = try InputParser(schema: plan.inputSchema).parse(["task=AI agents", "days=3"])
/// ```
public struct InputParser: Sendable {
    public let schema: JSONValue

    public init(schema: JSONValue) {
        self.schema = schema
    }

    /// Parses every `name=value`; a later value for the same name replaces an earlier one.
    /// - Parameter base: inputs to start from (e.g. `--inputs FILE.json`).
    /// - Throws: ``InputErrors`` listing every malformed pair by input name.
    public func parse(_ pairs: [String], base: JSONObject = JSONObject()) throws(InputErrors) -> JSONValue {
        var inputs = base
        var errors: [InputError] = []
        for pair in pairs {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                errors.append(InputError(name: String(pair.prefix { $0 != "=" }), message: "expected name=value, got '\(pair)'"))
                continue
            }
            let name = String(pair[..<equals])
            let text = String(pair[pair.index(after: equals)...])
            do {
                inputs[name] = try value(of: text, for: name)
            } catch {
                errors.append(error)
            }
        }
        guard errors.isEmpty else { throw InputErrors(errors: errors) }
        return .object(inputs)
    }

    /// The typed value of `text` for input `name`.
    public func value(of text: String, for name: String) throws(InputError) -> JSONValue {
        let types = declaredTypes(of: name)
        if text == "null", types.contains("null") { return .null }
        let wanted = types.first { $0 != "null" }
        switch wanted {
        case "string":
            return .string(text)
        case "integer":
            guard let number = Int64(text.trimmingCharacters(in: .whitespaces)) else {
                throw InputError(name: name, message: "expects an integer, got '\(text)'")
            }
            return .integer(number)
        case "number":
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            if let number = Int64(trimmed) { return .integer(number) }
            guard let number = Double(trimmed), number.isFinite else {
                throw InputError(name: name, message: "expects a number, got '\(text)'")
            }
            return .double(number)
        case "boolean":
            switch text.lowercased() {
            case "true", "yes", "1", "on": return true
            case "false", "no", "0", "off": return false
            default: throw InputError(name: name, message: "expects true or false, got '\(text)'")
            }
        case "array", "object":
            let expected = wanted == "array" ? "a JSON array such as \(arrayExample(for: name))" : #"a JSON object such as {"name": "value"}"#
            let parsed: JSONValue
            do {
                parsed = try JSONParser.parse(text)
            } catch {
                // The parser's complaint ("invalid literal") only helps someone who meant to
                // write JSON; anyone else needs to hear what is wanted.
                let meantJSON = text.trimmingCharacters(in: .whitespaces).first.map { "[{\"".contains($0) } ?? false
                throw InputError(name: name, message: "expects \(expected); got \(text)" + (meantJSON ? " (\(error.message))" : ""))
            }
            guard (wanted == "array" && parsed.arrayValue != nil) || (wanted == "object" && parsed.objectValue != nil) else {
                throw InputError(name: name, message: "expects \(expected); got \(text)")
            }
            return parsed
        default:
            // No declared type: JSON when it is JSON (numbers, booleans, lists), else the text.
            do {
                return try JSONParser.parse(text)
            } catch {
                return .string(text)
            }
        }
    }

    /// `["a", "b"]`, or `[1, 2]` when the items are numbers, for messages.
    private func arrayExample(for name: String) -> String {
        switch schema["properties"]?[name]?["items"]?["type"]?.stringValue {
        case "integer", "number": "[1, 2]"
        case "boolean": "[true, false]"
        case "object": #"[{"name": "value"}]"#
        default: #"["a", "b"]"#
        }
    }

    private func declaredTypes(of name: String) -> [String] {
        guard let property = schema["properties"]?[name] else { return [] }
        if let type = property["type"]?.stringValue { return [type] }
        if let types = property["type"]?.arrayValue { return types.compactMap(\.stringValue) }
        if let constant = property["const"] ?? property["enum"]?[0] { return [constant.typeName == "integer" ? "number" : constant.typeName] }
        return []
    }
}

extension InputError: Error {}
