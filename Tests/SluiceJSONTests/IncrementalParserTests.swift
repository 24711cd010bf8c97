import Testing
@testable import SluiceJSON

@Suite struct IncrementalParserTests {
    static let documents: [String] = [
        "{\"a\":1,\"b\":[true,false,null],\"c\":\"text\"}",
        "[1, -2.5e3, 0, -0, 123456789012345678901234, \"\\u00e9\\ud83d\\ude00\\n\"]",
        "  {\"名前\": \"日本語\", \"emoji\": \"👍🏽\", \"nested\": {\"x\": [[], {}, [{}]]}}  ",
        "\"just a string with \\\"escapes\\\" and \\\\ and \\/\"",
        "-12.5E-2",
        "0",
        "true",
        "{\"report\": {\"title\": \"Q3\", \"sections\": [{\"heading\": \"Intro\", \"body\": \"é\\u4e2d\\ud834\\udd1e\"}]}}",
    ]

    @Test(arguments: documents)
    func everySplitPointGivesTheOneShotValue(_ text: String) throws {
        let bytes = Array(text.utf8)
        let expected = try JSONParser.parse(bytes).serialized()
        for split in 0...bytes.count {
            let parser = JSONIncrementalParser()
            try parser.feed(bytes[..<split])
            try parser.feed(bytes[split...])
            #expect(try parser.finish().serialized() == expected, "split at \(split)")
        }
    }

    @Test(arguments: documents)
    func byteByByteAndSmallChunksGiveTheOneShotValue(_ text: String) throws {
        let bytes = Array(text.utf8)
        let expected = try JSONParser.parse(bytes).serialized()
        for chunkSize in [1, 2, 3, 8] {
            let parser = JSONIncrementalParser()
            var start = 0
            while start < bytes.count {
                let end = min(start + chunkSize, bytes.count)
                try parser.feed(bytes[start..<end])
                _ = parser.partialValue  // reading mid-stream must not disturb parsing
                start = end
            }
            #expect(try parser.finish().serialized() == expected, "chunk size \(chunkSize)")
            #expect(parser.partialValue?.serialized() == expected)
        }
    }

    @Test(arguments: [
        ("", nil),
        ("   ", nil),
        ("{\"title\": \"Quarterly rep", #"{"title":"Quarterly rep"}"#),
        ("[1, 2, \"ab", #"[1,2,"ab"]"#),
        ("[1, 2", "[1,2]"),
        ("[1, 2.", "[1]"),
        ("[1, -", "[1]"),
        ("[1, 2e", "[1]"),
        ("[1, tr", "[1]"),
        ("[1, true", "[1,true]"),
        ("{\"ke", "{}"),
        ("{\"key\"", "{}"),
        ("{\"key\":", "{}"),
        ("{\"key\": ", "{}"),
        ("{\"a\": [1, {\"b\": [\"x", #"{"a":[1,{"b":["x"]}]}"#),
        ("{\"a\": [1, {\"b\": tr", #"{"a":[1,{}]}"#),
        ("{\"a\": {\"b\": 1}, \"c\": [", #"{"a":{"b":1},"c":[]}"#),
        ("\"open", #""open""#),
        ("\"ab\\", #""ab""#),
        ("\"ab\\u00", #""ab""#),
        ("\"ab\\u00e9", #""abé""#),
        ("\"ab\\ud83d", #""ab""#),
        ("\"ab\\ud83d\\ude00", #""ab😀""#),
        ("\"line\\n", #""line\n""#),
        ("[[[", "[[[]]]"),
    ])
    func partialValuesCloseOpenContainers(_ text: String, _ expected: String?) throws {
        let parser = JSONIncrementalParser()
        try parser.feed(Array(text.utf8))
        #expect(parser.partialValue?.serialized() == expected)
    }

    @Test func partialStringsNeverSplitACharacter() throws {
        let parser = JSONIncrementalParser()
        let bytes = Array("[\"é👍\"]".utf8)  // é is 2 bytes, 👍 is 4
        var seen: [String] = []
        for byte in bytes {
            try parser.feed([byte])
            seen.append(parser.partialValue?.serialized() ?? "nil")
        }
        #expect(seen == ["[]", "[\"\"]", "[\"\"]", "[\"é\"]", "[\"é\"]", "[\"é\"]", "[\"é\"]", "[\"é👍\"]", "[\"é👍\"]", "[\"é👍\"]"])
    }

    @Test func finishReturnsTheValueAndRejectsMoreInput() throws {
        let parser = JSONIncrementalParser()
        try parser.feed(Array("{\"a\": 1}".utf8))
        #expect(try parser.finish() == ["a": 1])
        #expect(try parser.finish() == ["a": 1])
        #expect(parser.bytesReceived == 8)
        let error = #expect(throws: JSONParseError.self) { try parser.feed(Array(" ".utf8)) }
        #expect(error?.message == "input after the parser finished")
    }

    @Test func rootNumberCompletesOnlyAtFinish() throws {
        let parser = JSONIncrementalParser()
        try parser.feed(Array("12".utf8))
        #expect(parser.partialValue == 12)
        try parser.feed(Array("34".utf8))
        #expect(parser.partialValue == 1234)
        #expect(try parser.finish() == 1234)
    }

    @Test func optionsApplyToTheStream() throws {
        let parser = JSONIncrementalParser(options: .strict)
        try parser.feed(Array("{\"a\": 1, ".utf8))
        let error = #expect(throws: JSONParseError.self) { try parser.feed(Array("\"a\": 2}".utf8)) }
        #expect(error?.description == "1:10: duplicate key 'a'")
    }
}
