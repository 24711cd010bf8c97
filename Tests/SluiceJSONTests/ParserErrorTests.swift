import Testing
@testable import SluiceJSON

/// One malformed document and the exact error it must produce.
struct ErrorCase: CustomTestStringConvertible, Sendable {
    var input: [UInt8]
    var message: String
    var line: Int
    var column: Int
    var options = JSONParser.Options.default

    init(_ text: String, _ message: String, _ line: Int, _ column: Int, options: JSONParser.Options = .default) {
        self.init(bytes: Array(text.utf8), message, line, column, options: options)
    }

    init(bytes: [UInt8], _ message: String, _ line: Int, _ column: Int, options: JSONParser.Options = .default) {
        self.input = bytes
        self.message = message
        self.line = line
        self.column = column
        self.options = options
    }

    var testDescription: String { String(decoding: input.prefix(40), as: UTF8.self) }
}

let errorCases: [ErrorCase] = [
    ErrorCase("", "empty document", 1, 1),
    ErrorCase("  \n ", "empty document", 1, 1),
    ErrorCase("[1, 2", "unexpected end of input: expected ']' or ','", 1, 6),
    ErrorCase("{\"a\":1", "unexpected end of input: expected '}' or ','", 1, 7),
    ErrorCase("{", "unexpected end of input: expected a string key or '}'", 1, 2),
    ErrorCase("{\"a\":1,", "unexpected end of input: expected a string key", 1, 8),
    ErrorCase("{\"a\"", "unexpected end of input: expected ':' after the key", 1, 5),
    ErrorCase("[", "unexpected end of input: expected a value or ']'", 1, 2),
    ErrorCase("[1,", "unexpected end of input: expected a value", 1, 4),
    ErrorCase("[tru", "unexpected end of input: expected 'true'", 1, 5),
    ErrorCase("-", "unexpected end of input: expected a digit after '-'", 1, 2),
    ErrorCase("[1,]", "trailing comma not allowed", 1, 3),
    ErrorCase("{\"a\":1,}", "trailing comma not allowed", 1, 7),
    ErrorCase("[1,\r\n2,\r\n]", "trailing comma not allowed", 2, 2),
    ErrorCase("[1 2]", "missing ',' between array elements", 1, 4),
    ErrorCase("{\n  \"a\": 1\n  \"b\": 2\n}", "missing ',' between object members", 3, 3),
    ErrorCase("[1] x", "unexpected character 'x' after the JSON value", 1, 5),
    ErrorCase("{} {}", "unexpected character '{' after the JSON value", 1, 4),
    // yajl reads an incomplete token after the value as the start of more input: still an error.
    ErrorCase("0\"", "unexpected character '\"' after the JSON value", 1, 2),
    ErrorCase("[1] \"abc", "unexpected character '\"' after the JSON value", 1, 5),
    // yajl skips form feed and vertical tab as whitespace; JSON does not.
    ErrorCase("\u{0C}6", "unexpected character U+000C: expected a value", 1, 1),
    ErrorCase("[1,\u{0B}2]", "unexpected character U+000B: expected a value", 1, 4),
    ErrorCase("[1]\u{0C}", "unexpected character U+000C after the JSON value", 1, 4),
    ErrorCase("nullx", "unexpected character 'x' after the JSON value", 1, 5),
    ErrorCase("{a:1}", "object keys must be strings in double quotes", 1, 2),
    ErrorCase("['a']", "strings must use double quotes, not single quotes", 1, 2),
    ErrorCase("{\"a\" 1}", "unexpected character '1': expected ':' after the key", 1, 6),
    ErrorCase("{\"a\":}", "unexpected character '}': expected a value", 1, 6),
    ErrorCase("[}", "unexpected character '}': expected a value or ']'", 1, 2),
    ErrorCase("[,1]", "unexpected character ',': expected a value or ']'", 1, 2),
    ErrorCase("{1:2}", "unexpected character '1': expected a string key or '}'", 1, 2),
    ErrorCase("[1;2]", "unexpected character ';': expected ']' or ','", 1, 3),
    ErrorCase("[True]", "unexpected character 'T': expected a value or ']'", 1, 2),
    ErrorCase("[\"\\q\"]", "invalid escape '\\q' in string", 1, 3),
    ErrorCase("[\"\\u12G4\"]", "invalid unicode escape in string: '\\u' must be followed by 4 hex digits", 1, 3),
    ErrorCase("[\"\\ud800\"]", "unpaired surrogate '\\uD800' in string", 1, 3),
    ErrorCase("[\"\\udc00\"]", "unpaired surrogate '\\uDC00' in string", 1, 3),
    ErrorCase("[\"ab\\ud800\\u0041\"]", "unpaired surrogate '\\uD800' in string", 1, 5),
    ErrorCase("[\"\\ud800x\"]", "unpaired surrogate '\\uD800' in string", 1, 3),
    ErrorCase("[\"a\nb\"]", "control character U+000A must be escaped in a string", 1, 4),
    ErrorCase("[\"a\u{1}\"]", "control character U+0001 must be escaped in a string", 1, 4),
    ErrorCase("[01]", "invalid number: leading zeros are not allowed", 1, 2),
    ErrorCase("[1.]", "invalid number: expected a digit after '.'", 1, 4),
    ErrorCase("[-a]", "invalid number: expected a digit after '-'", 1, 3),
    ErrorCase("[1e]", "invalid number: expected a digit in the exponent", 1, 4),
    ErrorCase("[1e+]", "invalid number: expected a digit in the exponent", 1, 5),
    ErrorCase("[.5]", "unexpected character '.': expected a value or ']'", 1, 2),
    ErrorCase("[+1]", "unexpected character '+': expected a value or ']'", 1, 2),
    ErrorCase("1e400", "number 1e400 is out of range", 1, 1),
    ErrorCase("[0, -1e999]", "number -1e999 is out of range", 1, 5),
    ErrorCase("\"abc", "unterminated string: the input ends before its closing quote", 1, 1),
    ErrorCase("{\"k\": \"v\\", "unterminated string: the input ends before its closing quote", 1, 7),
    ErrorCase("[nulx]", "invalid literal: expected 'null'", 1, 2),
    ErrorCase("[fals]", "invalid literal: expected 'false'", 1, 2),
    ErrorCase("[“a”]", "unexpected character '“' (U+201C): expected a value or ']'", 1, 2),
    ErrorCase("\u{FEFF}{}", "unexpected character U+FEFF: expected a value", 1, 1),
    ErrorCase("{\"id\":1,\"id\":2}", "duplicate key 'id'", 1, 9, options: .strict),
    ErrorCase("{\"a\":{\"x\":1},\n \"b\":[], \"a\":0}", "duplicate key 'a'", 2, 10, options: .strict),
    // Columns count characters: multibyte text before the error must not shift it.
    ErrorCase("{\"名前\": \"日本語\", \"x\": tru}", "invalid literal: expected 'true'", 1, 20),
    ErrorCase("[\n\"👍🏽\", x]", "unexpected character 'x': expected a value", 2, 6),
    ErrorCase("[\"e\u{301}\", x]", "unexpected character 'x': expected a value", 1, 7),
    ErrorCase("{\"é\": 1,\n \"ü\": 2,\n \"ß\": [1,]}", "trailing comma not allowed", 3, 9),
    ErrorCase("{\"clé\":\"valeur\",\"clé\":1}", "duplicate key 'clé'", 1, 17, options: .strict),
    ErrorCase(bytes: [0x5B, 0x22, 0xFF, 0x22, 0x5D], "invalid UTF-8", 1, 3),
    ErrorCase(bytes: [0x5B, 0x22, 0x61, 0xC3, 0x22, 0x5D], "invalid UTF-8", 1, 4),
    ErrorCase(bytes: [0x5B, 0x22, 0xC0, 0xAF, 0x22, 0x5D], "invalid UTF-8", 1, 3),  // overlong '/'
    ErrorCase(bytes: [0x5B, 0x22, 0xED, 0xA0, 0x80, 0x22, 0x5D], "invalid UTF-8", 1, 3),  // encoded surrogate
    ErrorCase(bytes: [0x5B, 0x22, 0xF4, 0x90, 0x80, 0x80, 0x22, 0x5D], "invalid UTF-8", 1, 3),  // above U+10FFFF
    ErrorCase(bytes: [0x5B, 0xFF, 0x5D], "invalid UTF-8", 1, 2),
    ErrorCase(bytes: [0x7B, 0x22, 0xE2, 0x82, 0x22, 0x3A, 0x31, 0x7D], "invalid UTF-8", 1, 3),
    ErrorCase(String(repeating: "[", count: 513) + String(repeating: "]", count: 513),
              "nesting deeper than 512 levels", 1, 513),
    ErrorCase("[[[1]]]", "nesting deeper than 2 levels", 1, 3, options: .init(maxDepth: 2)),
    ErrorCase("[1, 2, 3, 4]", "input is 12 bytes; the limit is 10", 1, 1, options: .init(maxBytes: 10)),
]

@Suite struct ParserErrorTests {
    @Test(arguments: errorCases)
    func oneShotParserReportsMessageAndLocation(_ errorCase: ErrorCase) {
        let error = #expect(throws: JSONParseError.self) {
            try JSONParser.parse(errorCase.input, options: errorCase.options)
        }
        #expect(error?.message == errorCase.message)
        #expect(error?.location.line == errorCase.line)
        #expect(error?.location.column == errorCase.column)
        #expect(error?.description == "\(errorCase.line):\(errorCase.column): \(errorCase.message)")
    }

    @Test(arguments: errorCases.filter { !$0.message.hasPrefix("input is") })
    func incrementalParserReportsTheSameErrorAtEverySplit(_ errorCase: ErrorCase) {
        let expected = "\(errorCase.line):\(errorCase.column): \(errorCase.message)"
        for split in 0...errorCase.input.count {
            let parser = JSONIncrementalParser(options: errorCase.options)
            var caught: JSONParseError?
            do {
                try parser.feed(errorCase.input[..<split])
                try parser.feed(errorCase.input[split...])
                _ = try parser.finish()
            } catch {
                caught = error
            }
            #expect(caught?.description == expected, "split at \(split)")
        }
    }

    @Test func incrementalParserEnforcesTheSizeLimit() throws {
        let parser = JSONIncrementalParser(options: .init(maxBytes: 8))
        try parser.feed(Array("[1, 2".utf8))
        let error = #expect(throws: JSONParseError.self) { try parser.feed(Array(", 3, 4]".utf8)) }
        #expect(error?.message == "input exceeds the limit of 8 bytes")
        #expect(error?.location.column == 9)
        // A failed parser keeps failing with the same error.
        let again = #expect(throws: JSONParseError.self) { try parser.finish() }
        #expect(again?.message == error?.message)
    }

    @Test func depthLimitAllowsExactlyMaxDepth() throws {
        let deep = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        #expect(throws: Never.self) { try JSONParser.parse(deep) }
        let objects = String(repeating: "{\"a\":", count: 512) + "1" + String(repeating: "}", count: 512)
        #expect(throws: Never.self) { try JSONParser.parse(objects) }
        #expect(throws: JSONParseError.self) { try JSONParser.parse("[" + objects + "]") }
    }

    @Test func sizeLimitReportsTheRealSize() {
        let big = [UInt8](repeating: 0x20, count: 70_000_000)
        let error = #expect(throws: JSONParseError.self) { try JSONParser.parse(big) }
        #expect(error?.message == "input is 70000000 bytes; the limit is 67108864")
    }

    @Test func duplicateKeysAreAllowedByDefault() throws {
        let value = try JSONParser.parse("{\"id\":1,\"x\":true,\"id\":2}")
        #expect(value.objectValue?.keys == ["id", "x"])
        #expect(value["id"] == 2)
    }
}
