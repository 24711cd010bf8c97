import Testing
@testable import SluiceJSON

@Suite struct WriterTests {
    @Test func compactOutputKeepsKeyOrder() throws {
        let value = try JSONParser.parse("{ \"b\" : [1, 2.5, true, null], \"a\" : {\"x\": \"y\"} }")
        #expect(value.serialized() == #"{"b":[1,2.5,true,null],"a":{"x":"y"}}"#)
        #expect(value.jsonBytes == Array(value.serialized().utf8))
    }

    @Test func prettyOutputIndentsByTwoSpaces() throws {
        let value = try JSONParser.parse(#"{"a":1,"b":[true,{"c":null}],"d":[],"e":{}}"#)
        let expected = """
            {
              "a": 1,
              "b": [
                true,
                {
                  "c": null
                }
              ],
              "d": [],
              "e": {}
            }
            """
        #expect(value.serialized(pretty: true) == expected)
    }

    @Test(arguments: [
        ("quote\"backslash\\", #""quote\"backslash\\""#),
        ("a/b", #""a/b""#),
        ("\n\r\t\u{8}\u{C}", #""\n\r\t\b\f""#),
        ("\u{0}\u{1}\u{1F}", #""\u0000\u0001\u001f""#),
        ("\u{7F}", "\"\u{7F}\""),
        ("日本語 é 😀", "\"日本語 é 😀\""),
        ("", #""""#),
    ])
    func escapesOnlyWhatJSONRequires(_ string: String, _ expected: String) throws {
        let written = JSONValue.string(string).serialized()
        #expect(written == expected)
        #expect(try JSONParser.parse(written) == .string(string))
    }

    @Test(arguments: [
        (JSONValue.integer(42), "42"),
        (.integer(-9223372036854775808), "-9223372036854775808"),
        (.double(1.5), "1.5"),
        (.double(0.1), "0.1"),
        (.double(100), "100.0"),
        (.double(-0.0), "-0.0"),
        (.double(1e100), "1e+100"),
        (.double(.leastNonzeroMagnitude), "5e-324"),
        (.double(.infinity), "null"),
        (.double(-.infinity), "null"),
        (.double(.nan), "null"),
    ])
    func numbersUseShortestRoundTripForm(_ value: JSONValue, _ expected: String) throws {
        #expect(value.serialized() == expected)
    }

    @Test(arguments: [0.1, 1.0 / 3.0, 1e-7, 123456789.123456789, 2.2250738585072014e-308, 1.7976931348623157e308, -0.0])
    func doublesReadBackExactly(_ double: Double) throws {
        let parsed = try JSONParser.parse(JSONValue.double(double).serialized())
        guard case .double(let back) = parsed else {
            Issue.record("\(double) came back as \(parsed)")
            return
        }
        #expect(back == double && back.sign == double.sign)
    }

    @Test func roundTripsADocument() throws {
        let text = """
            {"name":"news","n":[1,-2,3.25,1e+300],"nested":{"deep":[[[]]],"s":"tab\\there \\"q\\" \\u00e9"},"ok":false,"nil":null}
            """
        let value = try JSONParser.parse(text)
        #expect(try JSONParser.parse(value.serialized()) == value)
        #expect(try JSONParser.parse(value.serialized(pretty: true)) == value)
        #expect(value.serialized() == (try JSONParser.parse(value.serialized())).serialized())
    }
}
