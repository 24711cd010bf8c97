import SluiceJSON
import Testing

@testable import SluicePlan

@Suite struct TemplateRenderTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let template: String
        let context: JSONValue
        let expected: String
        var testDescription: String { template }
    }

    @Test("plain text, never HTML-escaped", arguments: [
        Case(template: "{{x}}", context: ["x": "<b>&\"'</b>"], expected: "<b>&\"'</b>"),
        Case(template: "{{{x}}}", context: ["x": "<b>&</b>"], expected: "<b>&</b>"),
        Case(template: "{{& x}}", context: ["x": "<b>&</b>"], expected: "<b>&</b>"),
        Case(template: "{{#list}}{{.}};{{/list}}", context: ["list": ["a<b", "c&d"]], expected: "a<b;c&d;"),
        Case(template: "{{=<% %>=}}<%x%>", context: ["x": "1 < 2"], expected: "1 < 2"),
        Case(template: "{{#o}}{{x}}{{/o}}", context: ["o": ["x": "\"q\""]], expected: "\"q\""),
    ])
    func noEscaping(_ test: Case) throws {
        #expect(try PlanTemplate(test.template).render(test.context) == test.expected)
    }

    @Test("whitespace and standalone lines render exactly as without the plain-text prologue", arguments: [
        Case(template: "", context: [:], expected: ""),
        Case(template: "\n", context: [:], expected: "\n"),
        Case(template: "  \nx", context: [:], expected: "  \nx"),
        Case(template: "{{#a}}\nyes\n{{/a}}\n", context: ["a": true], expected: "yes\n"),
        Case(template: "\r\n{{#a}}\r\nyes\r\n{{/a}}\r\n", context: ["a": true], expected: "\r\nyes\r\n"),
        Case(template: "  {{! note }}\nEnd.", context: [:], expected: "End."),
        Case(template: "{{=| |=}}\n|x|", context: ["x": 1], expected: "1"),
    ])
    func whitespace(_ test: Case) throws {
        #expect(try PlanTemplate(test.template).render(test.context) == test.expected)
    }

    @Test("a last line of only spaces or tabs is kept (swift-mustache 2.1.1 drops it)", arguments: [
        Case(template: "  ", context: [:], expected: "  "),
        Case(template: "Hello\n  ", context: [:], expected: "Hello\n  "),
        Case(template: "{{x}}\n\t", context: ["x": 1], expected: "1\n\t"),
        Case(template: "{{#a}}\n{{/a}}\n ", context: ["a": true], expected: " "),
        Case(template: "{{x}}  ", context: ["x": 1], expected: "1  "),
    ])
    func trailingIndentation(_ test: Case) throws {
        #expect(try PlanTemplate(test.template).render(test.context) == test.expected)
    }

    @Test("text ending in the first character of a delimiter (a swift-mustache 2.1.1 overflow)", arguments: [
        Case(template: "{", context: [:], expected: "{"),
        Case(template: "Answer in JSON like {", context: [:], expected: "Answer in JSON like {"),
        Case(template: "{{x}} {", context: ["x": 1], expected: "1 {"),
        Case(template: "{{#a}}\n{{/a}}\n{", context: ["a": true], expected: "{"),
        Case(template: "x {\r", context: [:], expected: "x {\r"),
        Case(template: "{ \n", context: [:], expected: "{ \n"),
        Case(template: "{{=<% %>=}}<%x%> <", context: ["x": 1], expected: "1 <"),
    ])
    func trailingDelimiterStart(_ test: Case) throws {
        #expect(try PlanTemplate(test.template).render(test.context) == test.expected)
    }

    @Test("nested data from JSONValue", arguments: [
        Case(
            template: "# {{inputs.task}} ({{inputs.days}} days)",
            context: ["inputs": ["task": "Chips", "days": 7]], expected: "# Chips (7 days)"),
        Case(
            template: "{{steps.outline.output.title}}",
            context: ["steps": ["outline": ["output": ["title": "T"]]]], expected: "T"),
        Case(
            template: "# {{inputs.task}}\n{{#steps.sections.output}}{{.}}\n{{/steps.sections.output}}",
            context: ["inputs": ["task": "Chips"], "steps": ["sections": ["output": ["One.", "Two."]]]],
            expected: "# Chips\nOne.\nTwo.\n"),
        Case(template: "[{{a.b.missing}}][{{missing}}]", context: ["a": ["b": [:]]], expected: "[][]"),
        Case(template: "{{#a}}{{b.c}}{{/a}}", context: ["a": ["b": [:]], "b": ["c": "outer"]], expected: ""),
        Case(template: "{{#item}}{{inputs.task}}{{/item}}", context: ["item": ["x": 1], "inputs": ["task": "t"]], expected: "t"),
        Case(template: "{{#s}}{{length}}{{/s}}", context: ["s": "text"], expected: ""),
    ])
    func nested(_ test: Case) throws {
        #expect(try PlanTemplate(test.template).render(test.context) == test.expected)
    }

    @Test("sections over arrays of objects, and key order does not matter", arguments: [
        Case(
            template: "{{#sections}}- {{title}}: {{words}}\n{{/sections}}",
            context: ["sections": [["title": "Intro", "words": 120], ["words": 300, "title": "Body"]]],
            expected: "- Intro: 120\n- Body: 300\n"),
        Case(
            template: "{{#rows}}{{#cells}}[{{.}}]{{/cells}}|{{/rows}}",
            context: ["rows": [["cells": [1, 2]], ["cells": []], ["cells": ["x"]]]],
            expected: "[1][2]||[x]|"),
        Case(template: "{{#.}}({{n}}){{/.}}", context: [["n": 1], ["n": 2]], expected: "(1)(2)"),
        Case(template: "{{#flag}}on {{name}}{{/flag}}", context: ["flag": true, "name": "x"], expected: "on x"),
        Case(template: "{{#o}}{{k}}{{/o}}", context: ["o": [:], "k": "outer"], expected: "outer"),
    ])
    func sections(_ test: Case) throws {
        #expect(try PlanTemplate(test.template).render(test.context) == test.expected)
    }

    @Test("inverted sections render for empty, null, false, empty string and missing", arguments: [
        Case(template: "{{^x}}none{{/x}}", context: ["x": []], expected: "none"),
        Case(template: "{{^x}}none{{/x}}", context: ["x": nil], expected: "none"),
        Case(template: "{{^x}}none{{/x}}", context: ["x": false], expected: "none"),
        Case(template: "{{^x}}none{{/x}}", context: ["x": ""], expected: "none"),
        Case(template: "{{^x}}none{{/x}}", context: [:], expected: "none"),
        Case(template: "{{^x}}none{{/x}}", context: ["x": [1]], expected: ""),
        Case(template: "{{^x}}none{{/x}}", context: ["x": 0], expected: ""),
        Case(template: "{{^x}}none{{/x}}", context: ["x": [:]], expected: ""),
        Case(template: "{{^x}}none{{/x}}", context: ["x": "a"], expected: ""),
        Case(template: "{{#x}}some{{/x}}", context: ["x": ""], expected: ""),
        Case(template: "{{#x}}some{{/x}}", context: ["x": nil], expected: ""),
    ])
    func inverted(_ test: Case) throws {
        #expect(try PlanTemplate(test.template).render(test.context) == test.expected)
    }

    @Test("null hides an outer value of the same name", arguments: [
        Case(template: "{{#o}}[{{x}}]{{/o}}", context: ["o": ["x": nil], "x": "outer"], expected: "[]"),
    ])
    func nullMasks(_ test: Case) throws {
        #expect(try PlanTemplate(test.template).render(test.context) == test.expected)
    }

    @Test("numbers, booleans, null, arrays and objects", arguments: [
        Case(template: "{{n}}", context: ["n": 42], expected: "42"),
        Case(template: "{{n}}", context: ["n": -7], expected: "-7"),
        Case(template: "{{n}}", context: ["n": .integer(Int64.max)], expected: "9223372036854775807"),
        Case(template: "{{n}}", context: ["n": 8.2], expected: "8.2"),
        Case(template: "{{n}}", context: ["n": 3.0], expected: "3"),
        Case(template: "{{n}}", context: ["n": -0.5], expected: "-0.5"),
        Case(template: "{{n}}", context: ["n": 0.1], expected: "0.1"),
        Case(template: "{{n}}", context: ["n": 1e20], expected: "1e+20"),
        Case(template: "{{n}}", context: ["n": 2.5e-7], expected: "2.5e-07"),
        Case(template: "{{b}} {{c}}", context: ["b": true, "c": false], expected: "true false"),
        Case(template: "[{{z}}]", context: ["z": nil], expected: "[]"),
        Case(template: "{{l}}", context: ["l": [1, "a\"b", nil, 2.5, [:]]], expected: "[1,\"a\\\"b\",null,2.5,{}]"),
        Case(template: "{{o}}", context: ["o": ["z": 1, "a": ["k": "v\n"]]], expected: "{\"z\":1,\"a\":{\"k\":\"v\\n\"}}"),
        Case(template: "{{#l}}{{.}},{{/l}}", context: ["l": [1, 2.0, 2.25]], expected: "1,2,2.25,"),
    ])
    func values(_ test: Case) throws {
        #expect(try PlanTemplate(test.template).render(test.context) == test.expected)
    }

    @Test func renderingTwiceGivesTheSameText() throws {
        let template = try PlanTemplate("{{#xs}}{{.}}{{/xs}}")
        let context: JSONValue = ["xs": ["a", "b"]]
        #expect(template.render(context) == "ab")
        #expect(template.render(context) == "ab")
        #expect(template.source == "{{#xs}}{{.}}{{/xs}}")
    }
}
