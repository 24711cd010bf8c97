import Testing
import SluiceJSON

/// `pattern` and `patternProperties` run on the linear-time engine: hostile patterns finish and
/// the syntax is ECMA-262's. (Refused patterns are in `SchemaErrorTests`, with their pointers.)
@Suite struct SchemaPatternTests {
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
