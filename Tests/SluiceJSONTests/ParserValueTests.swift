import Testing
@testable import SluiceJSON

@Suite struct ParserValueTests {
    @Test(arguments: [
        ("null", JSONValue.null),
        ("true", .bool(true)),
        ("false", .bool(false)),
        ("0", .integer(0)),
        ("-12", .integer(-12)),
        ("9223372036854775807", .integer(.max)),
        ("-9223372036854775808", .integer(.min)),
        ("\"hi\"", .string("hi")),
        ("[]", .array([])),
        ("{}", .object(JSONObject())),
        (" [1, \"a\", null, [true], {\"k\": false}] ", JSONValue.array([1, "a", nil, [true], ["k": false]])),
    ])
    func parsesEachKindOfValue(_ text: String, _ expected: JSONValue) throws {
        #expect(try JSONParser.parse(text) == expected)
    }

    /// Numbers keep the type the literal has: only integer literals that fit Int64 are integers.
    @Test(arguments: [
        ("1", "integer"), ("-0", "double"), ("0.0", "double"), ("1.0", "double"), ("1e2", "double"),
        ("1E2", "double"), ("-1.5e-3", "double"), ("9223372036854775807", "integer"),
        ("9223372036854775808", "double"), ("-9223372036854775809", "double"),
        ("123456789012345678901234567890", "double"),
    ])
    func numberTypesFollowTheLiteral(_ text: String, _ kind: String) throws {
        let value = try JSONParser.parse(text)
        switch (value, kind) {
        case (.integer, "integer"), (.double, "double"): break
        default: Issue.record("\(text) parsed as \(value), expected \(kind)")
        }
        let streamed = JSONIncrementalParser()
        try streamed.feed(Array(text.utf8))
        #expect(String(describing: try streamed.finish()) == String(describing: value))
    }

    @Test func numberValuesAreExact() throws {
        #expect(try JSONParser.parse("9223372036854775808") == .double(9223372036854775808))
        #expect(try JSONParser.parse("-0").doubleValue?.sign == .minus)
        #expect(try JSONParser.parse("1.5e300") == .double(1.5e300))
        #expect(try JSONParser.parse("1e-400") == .double(0))
        #expect(try JSONParser.parse("0.1") == .double(0.1))
    }

    @Test func keysKeepDocumentOrder() throws {
        let value = try JSONParser.parse("{\"z\":1,\"a\":2,\"m\":3}")
        #expect(value.objectValue?.keys == ["z", "a", "m"])
    }

    @Test(arguments: [
        ("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\u{8}\u{C}\n\r\t"),
        ("\"\\u0041\\u00e9\\u4E2D\"", "Aé中"),
        ("\"\\ud83d\\ude00\"", "😀"),
        ("\"\\uD834\\uDD1E\"", "𝄞"),
        ("\"\\u0000\"", "\u{0}"),
        ("\"日本語 é 👍🏽\"", "日本語 é 👍🏽"),
        ("\"a\\nb\\u00e9\"", "a\nbé"),
        ("\"\u{7F}\"", "\u{7F}"),
    ])
    func decodesEscapesAndUnicode(_ text: String, _ expected: String) throws {
        #expect(try JSONParser.parse(text) == .string(expected))
        #expect(try JSONParser.parse("{\(text):1}").objectValue?.keys == [expected])
    }

    @Test func parsesFromBytesAndStringAlike() throws {
        let text = "{\"a\":[1,2.5,\"x\"]}"
        #expect(try JSONParser.parse(Array(text.utf8)) == JSONParser.parse(text))
    }

    @Test func strictOptionsRejectDuplicatesOnly() {
        #expect(JSONParser.Options.strict.rejectDuplicateKeys)
        #expect(JSONParser.Options.strict.maxDepth == 512)
        #expect(JSONParser.Options.default.maxBytes == 64 << 20)
        #expect(!JSONParser.Options.default.rejectDuplicateKeys)
    }
}
