import Foundation
import SluiceJSON
import Testing
@testable import SluicePlan

/// The expression API as plans use it: evaluation over JSON bindings, syntax errors with their
/// positions, references, JSON conversion and the resource limits.
@Suite("CEL expressions")
struct CELExpressionTests {
    static let bindings: [String: CELValue] = [
        "inputs": CELValue(json: ["task": "AI chips", "days": 7, "quality_threshold": 7.0, "auto_confirm": true]),
        "steps": CELValue(json: [
            "outline": ["output": ["sections": [["title": "Market"], ["title": "Players"]]]],
            "gate": ["output": ["score": 7.5, "passed": true, "scores": ["depth": 8, "accuracy": 7]]],
            "empty": ["output": ["sections": []]],
        ]),
        "loop": CELValue(json: ["iteration": 2, "best": nil]),
        "item": CELValue(json: ["title": "Market", "queries": ["a", "b"]]),
        "index": .int(0),
    ]

    static func evaluate(_ source: String) throws -> CELValue {
        try CELExpression(parsing: source).evaluate(bindings)
    }

    @Test("plan expressions", arguments: [
        ("steps.gate.output.score >= inputs.quality_threshold", CELValue.bool(true)),
        ("size(steps.outline.output.sections) > 0", .bool(true)),
        ("steps.empty.output.sections.size() > 0", .bool(false)),
        ("!inputs.auto_confirm", .bool(false)),
        ("loop.iteration < 3 && steps.gate.output.score < 9.0", .bool(true)),
        ("loop.best == null ? 0.0 : loop.best.score", .double(0)),
        ("steps.outline.output.sections.map(s, s.title)", .list([.string("Market"), .string("Players")])),
        ("steps.outline.output.sections.exists(s, s.title.startsWith('Play'))", .bool(true)),
        ("steps.gate.output.scores.all(d, steps.gate.output.scores[d] >= 7)", .bool(true)),
        ("'Section ' + string(index + 1) + ': ' + item.title", .string("Section 1: Market")),
        ("has(steps.gate.output.feedback) ? steps.gate.output.feedback : 'none'", .string("none")),
        ("inputs.days * 24", .int(168)),
        ("double(inputs.days) / 2.0", .double(3.5)),
        ("item.queries + ['c']", .list([.string("a"), .string("b"), .string("c")])),
        ("'gate' in steps", .bool(true)),
        ("inputs.task.lowerAscii().contains('chips')", .bool(true)),
    ])
    func planExpressions(_ source: String, _ expected: CELValue) throws {
        #expect(try Self.evaluate(source) == expected)
    }

    @Test("syntax errors say what and where (offsets in characters)", arguments: [
        ("1 +", "unexpected end of expression", 3),
        ("a ? b", "expected ':' in a conditional expression", 5),
        ("'abc", "unterminated string literal", 0),
        ("1 $ 2", "unexpected character '$'", 2),
        ("f(1, 2", "expected ')' to close the argument list", 6),
        ("if > 1", "'if' is a reserved word", 0),
        ("Point{x: 1}", "message construction is not supported", 5),
        ("has(x)", "has() needs a single field selection argument", 0),
        ("[1, 2].all(1, true)", "the first argument of all() must be a variable name", 11),
        ("'é🇫🇷' + $", "unexpected character '$'", 7),
        ("\"\\q\"", "invalid escape sequence '\\q'", 1),
        ("b'\\u00ff'", "\\u escapes are not allowed in bytes literals", 2),
        ("99999999999999999999", "integer literal out of range", 0),
        ("9223372036854775808", "integer literal out of range", 0),
        ("'line\nbreak'", "line break in a single-quoted literal", 5),
        ("1 2", "unexpected '2' after the expression", 2),
    ])
    func syntaxErrors(_ source: String, _ message: String, _ offset: Int) {
        #expect {
            _ = try CELExpression(parsing: source)
        } throws: { error in
            guard let error = error as? CELError else { return false }
            return error.message.hasPrefix(message) && error.offset == offset
        }
    }

    @Test("evaluation errors say what and where", arguments: [
        ("1 / 0", "division by zero", 0),
        ("inputs.days + missing", "undeclared reference to 'missing'", 14),
        ("steps.outline.output.nope", "no such key: 'nope'", 0),
        ("inputs.days.x", "type 'int' does not support field selection", 0),
        ("9223372036854775807 + 1", "integer overflow", 0),
        ("[1][5]", "index 5 out of range", 0),
        ("inputs.task + 1", "no matching overload for '+' applied to (string, int)", 0),
        ("'🇫🇷' + 1", "no matching overload for '+' applied to (string, int)", 0),
        ("2 + ('🇫🇷' + 1)", "no matching overload for '+' applied to (string, int)", 5),
        ("timestamp('2024-01-01T00:00:00Z')", "unbound function 'timestamp'", 0),
        ("int('x')", "cannot convert string 'x' to int", 0),
    ])
    func evaluationErrors(_ source: String, _ message: String, _ offset: Int) throws {
        let expression = try CELExpression(parsing: source)
        #expect {
            _ = try expression.evaluate(Self.bindings)
        } throws: { error in
            guard let error = error as? CELError else { return false }
            return error.message.hasPrefix(message) && error.offset == offset
        }
    }

    @Test("references: each free variable with its member chain", arguments: [
        ("size(steps.outline.output.sections) > 0", [["steps", "outline", "output", "sections"]]),
        ("steps.gate.output.score >= inputs.quality_threshold", [["steps", "gate", "output", "score"], ["inputs", "quality_threshold"]]),
        ("!inputs.auto_confirm", [["inputs", "auto_confirm"]]),
        ("steps['my-step'].output['a b'].c", [["steps", "my-step", "output", "a b", "c"]]),
        ("steps.x.output.items[index].title", [["steps", "x", "output", "items"], ["index"]]),
        ("steps.a.output.map(s, s.title + item.name)", [["steps", "a", "output"], ["item", "name"]]),
        ("has(steps.gate.output.feedback)", [["steps", "gate", "output", "feedback"]]),
        ("steps.a.output.size() + 1", [["steps", "a", "output"]]),
        ("[1, 2].exists(x, x > loop.iteration) || x", [["loop", "iteration"], ["x"]]),
        ("1 + 2", []),
    ])
    func references(_ source: String, _ paths: [[String]]) throws {
        #expect(try CELExpression(parsing: source).references.map(\.path) == paths)
    }

    @Test func referenceRangesCountCharacters() throws {
        let source = "'🇫🇷' + steps.a.output"
        let reference = try #require(try CELExpression(parsing: source).references.first)
        #expect(reference.range == 6..<20)
        #expect(String(Array(source)[reference.range]) == "steps.a.output")
    }

    @Test func jsonRoundTripKeepsKeyOrder() throws {
        let json: JSONValue = ["z": 1, "a": [true, nil, 2.5, "s"], "m": ["k": ["n": 1]]]
        let value = CELValue(json: json)
        #expect(value.mapValue?.keys == [.string("z"), .string("a"), .string("m")])
        let back = try value.toJSON()
        #expect(back == json)
        #expect(back.objectValue?.keys == ["z", "a", "m"])
    }

    @Test func jsonOfCELOnlyValues() throws {
        #expect(try CELValue.bytes([0, 255]).toJSON() == .string("AP8="))
        #expect(try CELValue.uint(5).toJSON() == .integer(5))
        #expect(try CELValue.type("int").toJSON() == .string("int"))
        #expect(try CELValue.map([.int(1): .bool(true), .bool(false): .null]).toJSON() == ["1": true, "false": nil])
        #expect(throws: CELError.self) { try CELValue.double(.nan).toJSON() }
        #expect(throws: CELError.self) { try CELValue.uint(.max).toJSON() }
        #expect(CELValue.double(.infinity).json == nil)
        #expect(try Self.evaluate("{'n': inputs.days + 1}").json == ["n": 8])
    }

    @Test func jsonNumbersFollowTheSchemaType() throws {
        let schema: JSONValue = ["type": "object", "properties": ["threshold": ["type": "number"], "n": ["type": "integer"]]]
        let value = CELValue(json: ["threshold": 8, "n": 3.0], as: CELType(jsonSchema: schema))
        #expect(value.mapValue?["threshold"] == .double(8))
        #expect(value.mapValue?["n"] == .int(3))
        let expression = try CELExpression(parsing: "inputs.threshold * 1.5")
        #expect(try expression.evaluate(["inputs": value]) == .double(12))
    }

    @Test("string() of a double", arguments: [
        (123.456, "123.456"), (-0.0045, "-0.0045"), (1e6, "1e+06"), (123456.0, "123456"), (0.5, "0.5"),
        (1e-5, "1e-05"), (2.5e-7, "2.5e-07"), (1e21, "1e+21"), (-0.0, "-0"), (7.0, "7"), (1.0 / 3.0, "0.3333333333333333"),
    ])
    func doubleToString(_ value: Double, _ text: String) throws {
        #expect(try CELExpression(parsing: "string(x)").evaluate(["x": .double(value)]) == .string(text))
    }

    @Test("string extensions", arguments: [
        ("'  a b  '.trim()", CELValue.string("a b")),
        ("'Hello'.upperAscii()", .string("HELLO")),
        ("'a,b,,c'.split(',')", .list([.string("a"), .string("b"), .string(""), .string("c")])),
        ("'a,b,c'.split(',', 2)", .list([.string("a"), .string("b,c")])),
        ("['a', 'b'].join('-')", .string("a-b")),
        ("'banana'.replace('an', 'AN')", .string("bANANa")),
        ("'banana'.replace('an', 'AN', 1)", .string("bANana")),
        ("'héllo'.indexOf('l')", .int(2)),
        ("'héllo'.lastIndexOf('l')", .int(3)),
        ("'héllo'.substring(1, 3)", .string("él")),
        ("'héllo'.charAt(1)", .string("é")),
        ("'abc'.indexOf('z')", .int(-1)),
        ("matches('abc123', '^[a-z]+[0-9]+$')", .bool(true)),
        ("'abcabc'.indexOf('c', 3)", .int(5)),
        ("'abcabc'.lastIndexOf('ab', 2)", .int(0)),
        ("'abcabc'.lastIndexOf('')", .int(6)),
        ("'aaa'.lastIndexOf('aa')", .int(1)),
        ("'abc'.split('')", .list(["a", "b", "c"])),
        ("'abc'.split('', 2)", .list(["a", "bc"])),
        ("'a-b-c'.split('-', 0)", .list([])),
        ("'aaaa'.replace('aa', 'b')", .string("bb")),
        ("'abc'.replace('', 'x')", .string("abc")),
        ("'ababab'.contains('babab')", .bool(true)),
        // ASCII text takes a byte path, other text the code point path: the same answers.
        ("'hello'.substring(1, 3)", .string("el")),
        ("'hello'.substring(5)", .string("")),
        ("'x[1] y[22]'.split('[')", .list(["x", "1] y", "22]"])),
        ("'x[1] é[22]'.split('[')", .list(["x", "1] é", "22]"])),
        ("'a-b'.split('é')", .list(["a-b"])),
        ("'a-b-c'.split('-', 2)", .list(["a", "b-c"])),
        ("'abc'.indexOf('é')", .int(-1)),
        ("'abc'.indexOf('', 3)", .int(3)),
    ])
    func stringExtensions(_ source: String, _ expected: CELValue) throws {
        #expect(try Self.evaluate(source) == expected)
    }

    @Test func costLimitStopsRunawayWork() throws {
        let limits = CELExpression.Limits(maxCost: 2_000)
        let wide = try CELExpression(parsing: "[1,2,3,4,5,6,7,8,9,10].map(a, [1,2,3,4,5,6,7,8,9,10].map(b, [1,2,3,4,5,6,7,8,9,10].map(c, a + b + c)))", limits: limits)
        #expect { _ = try wide.evaluate([:]) } throws: { ($0 as? CELError)?.isResourceLimit == true }
        // Doubling a string 40 times would need a terabyte; the budget ends it first.
        let doubling = try CELExpression(parsing: "['ab']" + String(repeating: ".map(x, x + x)", count: 40))
        #expect { _ = try doubling.evaluate([:]) } throws: { ($0 as? CELError)?.isResourceLimit == true }
        // || and && do not absorb a spent budget.
        let absorbed = try CELExpression(parsing: "[1,2,3,4,5,6,7,8,9,10].map(a, [1,2,3,4,5,6,7,8,9,10].map(b, [1,2,3,4,5,6,7,8,9,10].map(c, a))) == [] || true", limits: limits)
        #expect { _ = try absorbed.evaluate([:]) } throws: { ($0 as? CELError)?.isResourceLimit == true }
    }

    @Test func substringSearchIsLinearAndExact() throws {
        // A quadratic search would take about 10^10 steps here.
        let text = String(repeating: "a", count: 200_000)
        let needle = String(repeating: "a", count: 50_000) + "b"
        let bindings: [String: CELValue] = ["t": .string(text), "n": .string(needle)]
        #expect(try CELExpression(parsing: "t.contains(n) || t.indexOf(n) >= 0 || size(t.split(n)) != 1").evaluate(bindings) == .bool(false))
        #expect(CELSubstringSearch(Array("abaabab".utf8)).firstIndex(in: Array("abaabaabababaabab".utf8)) == 3)
        #expect(CELSubstringSearch(Array("aab".utf8)).firstIndex(in: Array("aaab".utf8)) == 1)
        #expect(CELSubstringSearch(Array("abab".utf8)).firstIndex(in: Array("abaabab".utf8), from: 1) == 3)
        // Replacing into a huge result is charged before it is built.
        let blowUp = try CELExpression(parsing: "t.replace('a', t)")
        #expect { _ = try blowUp.evaluate(bindings) } throws: { ($0 as? CELError)?.isResourceLimit == true }
    }

    @Test func nestingLimit() throws {
        let deep = String(repeating: "(", count: 201) + "1" + String(repeating: ")", count: 201)
        #expect { _ = try CELExpression(parsing: deep) } throws: { ($0 as? CELError)?.message.contains("nested too deeply") == true }
        // Up to the limit, everything parses and evaluates.
        let lists = String(repeating: "[", count: 199) + "1" + String(repeating: "]", count: 199)
        #expect(try CELExpression(parsing: lists).evaluate([:]).listValue?.count == 1)
        let sums = String(repeating: "1 + (", count: 99) + "1" + String(repeating: ")", count: 99)
        #expect(try CELExpression(parsing: sums).evaluate([:]) == .int(100))
        let chain = "x" + String(repeating: ".a", count: 198)
        #expect(throws: CELError.self) { try CELExpression(parsing: chain).evaluate(["x": .map([:])]) }
        let tooLong = "x" + String(repeating: ".a", count: 250)
        #expect(throws: CELError.self) { try CELExpression(parsing: tooLong) }
        let longOr = Array(repeating: "false", count: 5000).joined(separator: " || ")
        #expect(try CELExpression(parsing: longOr).evaluate([:]) == .bool(false))
    }

    /// The examples in docs/expressions.md parse, and evaluate against the bindings above.
    @Test func documentedExamplesWork() throws {
        let repositoryDocs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/expressions.md")
        let text = try String(contentsOf: repositoryDocs, encoding: .utf8)
        let section = try #require(text.components(separatedBy: "## Examples\n").dropFirst().first)
        let block = try #require(section.components(separatedBy: "```").dropFirst().first)
        let lines = block.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        #expect(lines.count >= 10)
        for line in lines {
            let expression = try CELExpression(parsing: line)
            var bindings = Self.bindings
            bindings["steps"] = CELValue(json: [
                "outline": ["output": ["sections": [["title": "Market"]]]],
                "gate": ["output": ["score": 7.5, "scores": ["depth": 8.0], "feedback": "ok"]],
                "search": ["output": ["results": [["url": "https://a"], ["url": "http://b"]]]],
            ])
            #expect(throws: Never.self, "\(line)") { _ = try expression.evaluate(bindings) }
        }
    }

    @Test func qualifiedBindingsResolveLongestPrefixFirst() throws {
        let expression = try CELExpression(parsing: "a.b.c")
        #expect(try expression.evaluate(["a.b.c": .string("whole"), "a.b": .map(["c": .string("field")])]) == .string("whole"))
        #expect(try expression.evaluate(["a.b": .map(["c": .string("field")])]) == .string("field"))
        #expect(try expression.evaluate(["a": .map(["b": .map(["c": .string("deep")])])]) == .string("deep"))
    }

    @Test func stringsCompareByCodePoints() throws {
        #expect(try Self.evaluate("'Am\\u00E9lie' == 'Ame\\u0301lie'") == .bool(false))
        #expect(CELValue.string("\u{E9}") != CELValue.string("e\u{301}"))
        #expect(try Self.evaluate("{'\\u00E9': 1, 'e\\u0301': 2}.size()") == .int(2))
    }

    /// `relevant` keeps the k best matches by BM25, in list order, and fills with the rest.
    @Test("list.relevant ranks by BM25", arguments: [
        ("chips", 2, ["Nvidia ships new AI chips", "TSMC chips output rises"]),
        ("funding round", 1, ["Startup raises a funding round"]),
        ("regulation europe", 2, ["Nvidia ships new AI chips", "EU regulation of AI in Europe"]),
        ("芯片", 1, ["英伟达发布新芯片"]),
        ("nothing matches this", 2, ["Nvidia ships new AI chips", "Startup raises a funding round"]),
        ("chips", 9, ["Nvidia ships new AI chips", "Startup raises a funding round", "EU regulation of AI in Europe", "TSMC chips output rises", "英伟达发布新芯片"]),
    ] as [(String, Int, [String])])
    func relevantRanks(query: String, count: Int, expected: [String]) throws {
        let titles = ["Nvidia ships new AI chips", "Startup raises a funding round", "EU regulation of AI in Europe", "TSMC chips output rises", "英伟达发布新芯片"]
        let sources = CELValue(json: .array(titles.map { ["title": .string($0), "url": "https://example.com"] }))
        let expression = try CELExpression(parsing: "sources.relevant(query, k).map(s, s.title)")
        let value = try expression.evaluate(["sources": sources, "query": .string(query), "k": .int(Int64(count))])
        #expect(value == .list(expected.map { .string($0) }))
    }

    @Test func relevantRefusesANegativeCount() throws {
        #expect(throws: CELError.self) { try Self.evaluate("['a'].relevant('a', -1)") }
        #expect(throws: CELError.self) { try Self.evaluate("['a'].relevant(1, 1)") }
    }
}
