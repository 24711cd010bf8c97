import Testing
import SluiceJSON

/// `pattern` and `patternProperties` run on the linear-time engine: hostile patterns finish,
/// and patterns that need backtracking are refused when the schema is compiled, with a pointer.
@Suite struct SchemaPatternTests {
    struct Refused: CustomTestStringConvertible, Sendable {
        var schema: String
        var path: String
        var message: String
        var testDescription: String { schema }
    }

    @Test("backreferences and lookaround are refused at compile time", arguments: [
        Refused(schema: #"{"properties": {"code": {"pattern": "^(a)\\1$"}}}"#, path: "/properties/code/pattern",
                message: #"pattern '^(a)\1$' uses a backreference (\1), which Sluice does not support: patterns run on a linear-time engine"#),
        Refused(schema: #"{"items": {"pattern": "^(?!admin$)"}}"#, path: "/items/pattern",
                message: "pattern '^(?!admin$)' uses a negative lookahead ((?!…)), which Sluice does not support: patterns run on a linear-time engine"),
        Refused(schema: #"{"patternProperties": {"(?<=x)y": true}}"#, path: "/patternProperties/(?<=x)y",
                message: "pattern '(?<=x)y' uses a lookbehind ((?<=…)), which Sluice does not support: patterns run on a linear-time engine"),
        Refused(schema: ##"{"$ref": "#/$defs/a", "$defs": {"a": {"pattern": "x(?=y)"}}}"##, path: "/$defs/a/pattern",
                message: "pattern 'x(?=y)' uses a lookahead ((?=…)), which Sluice does not support: patterns run on a linear-time engine"),
        Refused(schema: #"{"pattern": "^\\d{1000}\\d{1000}\\d{1000}\\d{1000}\\d{1000}\\d{1000}\\d{1000}\\d{1000}\\d{1000}\\d{1000}\\d$"}"#,
                path: "/pattern",
                message: "is too large for the linear-time engine: over 10000 instructions once counted repetitions such as {1,1000} are expanded"),
        Refused(schema: #"{"pattern": "(["}"#, path: "/pattern", message: "'([' is not a valid regular expression: missing ']' at position 2"),
    ])
    func refused(_ refused: Refused) throws {
        let value = try JSONParser.parse(refused.schema)
        #expect {
            _ = try JSONSchema(value)
        } throws: { error in
            guard let error = error as? SchemaError else { return false }
            return error.schemaPath.description == refused.path && error.message.contains(refused.message)
        }
    }

    /// The report from issue #12: an extraction item schema whose pattern took 46 s on ICU.
    @Test(.timeLimit(.minutes(1))) func hostilePatternsValidateTenKilobytes() throws {
        let schema = try JSONSchema(try JSONParser.parse(#"{"type": "string", "pattern": "(.*a){16}$"}"#))
        let hostile = String(repeating: "a", count: 10_000) + "!"
        #expect(schema.validate(.string(hostile)).map(\.keyword) == ["pattern"])
        #expect(schema.isValid(.string(String(repeating: "a", count: 10_000))))

        let keys = try JSONSchema(try JSONParser.parse(#"{"patternProperties": {"^(a+)+$": {"type": "integer"}}, "additionalProperties": false}"#))
        var object = JSONObject()
        object[String(repeating: "a", count: 10_000) + "!"] = .integer(1)
        #expect(keys.validate(.object(object)).map(\.keyword) == ["additionalProperties"])
    }

    @Test("ECMA-262 meaning, not ICU's", arguments: [
        (#"^\d+$"#, "٣٤", false), (#"^\w+$"#, "école", false), (#"^\s$"#, "\u{FEFF}", true),
        (#"^\p{Letter}+$"#, "école", true), ("^.$", "\u{2028}", false), ("^abc$", "abc\n", false),
    ])
    func ecmaSemantics(_ pattern: String, _ text: String, _ valid: Bool) throws {
        let schema = try JSONSchema(.object(["pattern": .string(pattern)]))
        #expect(schema.isValid(.string(text)) == valid)
    }
}
