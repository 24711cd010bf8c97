import SluiceJSON
import Testing

@testable import SluicePlan

@Suite struct TemplateErrorTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let template: String
        let message: String
        let offset: Int
        let line: Int
        let column: Int
        var testDescription: String { template.debugDescription }
    }

    @Test("syntax errors with exact positions", arguments: [
        Case(template: "Hello {{#items}}x", message: "section 'items' is never closed", offset: 6, line: 1, column: 7),
        Case(
            template: "{{#a}}\n{{#b}}\n{{/a}}", message: "closing tag 'a' does not match the open section 'b'",
            offset: 14, line: 3, column: 1),
        Case(
            template: "{{#a}}{{/a}}{{/a}}", message: "closing tag 'a' has no open section", offset: 12, line: 1,
            column: 13),
        Case(template: "text {{/a}}", message: "closing tag 'a' has no open section", offset: 5, line: 1, column: 6),
        Case(template: "ab {{x", message: "tag is never closed: expected '}}'", offset: 3, line: 1, column: 4),
        Case(template: "{{a}", message: "tag is never closed: expected '}}'", offset: 0, line: 1, column: 1),
        Case(template: "x\n{{", message: "tag is never closed: expected '}}'", offset: 2, line: 2, column: 1),
        Case(
            template: "{{x y}}", message: "unexpected 'y' in tag: expected a name and '}}'", offset: 4, line: 1,
            column: 5),
        Case(
            template: "{{#a b}}{{/a}}", message: "unexpected 'b' in tag: expected a name and '}}'", offset: 5,
            line: 1, column: 6),
        Case(
            template: "{{títle}}", message: "unexpected 'í' in tag: expected a name and '}}'", offset: 3, line: 1,
            column: 4),
        Case(template: "{{}}", message: "tag has no name", offset: 0, line: 1, column: 1),
        Case(template: "{{#  }}", message: "tag has no name", offset: 0, line: 1, column: 1),
        Case(
            template: "{{a..b}}", message: "invalid name 'a..b': each part of a dotted name must be non-empty",
            offset: 0, line: 1, column: 1),
        Case(
            template: "{{.a}}", message: "invalid name '.a': each part of a dotted name must be non-empty",
            offset: 0, line: 1, column: 1),
        Case(template: "{{! never", message: "comment is never closed: expected '}}'", offset: 0, line: 1, column: 1),
        Case(
            template: "{{=<% %>}}", message: "set-delimiter tag must look like '{{=<start> <end>=}}'", offset: 0,
            line: 1, column: 1),
        Case(
            template: "{{= <% =}}", message: "set-delimiter tag must look like '{{=<start> <end>=}}'", offset: 0,
            line: 1, column: 1),
        Case(
            template: "{{=<% %>=}}\n<%#a%>\n<%/b%>", message: "closing tag 'b' does not match the open section 'a'",
            offset: 19, line: 3, column: 1),
        Case(
            template: "{{=<% %>=}}<%x", message: "tag is never closed: expected '%>'", offset: 11, line: 1,
            column: 12),
        Case(
            template: "{{{x}}", message: "triple mustache is missing its third closing brace", offset: 0, line: 1,
            column: 1),
        Case(
            template: "é🇫🇷\r\n  {{/x}}", message: "closing tag 'x' has no open section", offset: 5, line: 2,
            column: 3),
    ])
    func syntaxErrors(_ test: Case) {
        #expect(throws: TemplateError(message: test.message, offset: test.offset, line: test.line, column: test.column)) {
            try PlanTemplate(test.template)
        }
    }

    @Test("what plans do not support", arguments: [
        Case(
            template: "line1\n  {{> header}}", message: "partials are not supported in plan templates", offset: 8,
            line: 2, column: 3),
        Case(
            template: "{{>*dynamic}}", message: "partials are not supported in plan templates", offset: 0, line: 1,
            column: 1),
        Case(
            template: "{{<parent}}{{/parent}}", message: "template inheritance is not supported in plan templates",
            offset: 0, line: 1, column: 1),
        Case(
            template: "a{{$block}}{{/block}}", message: "template inheritance is not supported in plan templates",
            offset: 1, line: 1, column: 2),
        Case(
            template: "{{%CONTENT_TYPE: HTML}}", message: "pragmas are not supported in plan templates", offset: 0,
            line: 1, column: 1),
        Case(
            template: "{{count(items)}}",
            message: "transforms such as 'name(value)' are not supported in plan templates", offset: 7, line: 1,
            column: 8),
        Case(
            template: "{{#xs}}{{first()}}{{/xs}}",
            message: "transforms such as 'name(value)' are not supported in plan templates", offset: 14, line: 1,
            column: 15),
    ])
    func unsupported(_ test: Case) {
        #expect(throws: TemplateError(message: test.message, offset: test.offset, line: test.line, column: test.column)) {
            try PlanTemplate(test.template)
        }
    }

    @Test("shapes swift-mustache 2.1.1 gets wrong, refused with a reason", arguments: [
        Case(
            template: "{{#a}}{{=| |=}}|/a|", message: "delimiters can only be changed outside sections", offset: 6,
            line: 1, column: 7),
        Case(
            template: "{{=| |=}}\n|#a||/a|",
            message: "section 'a' is empty, which one-character delimiters do not support", offset: 10, line: 2,
            column: 1),
        Case(
            template: "{{=| |=}}|^a|\n|/a|",
            message: "section 'a' is empty, which one-character delimiters do not support", offset: 9, line: 1,
            column: 10),
    ])
    func libraryLimitations(_ test: Case) {
        #expect(throws: TemplateError(message: test.message, offset: test.offset, line: test.line, column: test.column)) {
            try PlanTemplate(test.template)
        }
    }

    @Test func sectionDepthIsBounded() throws {
        let limit = PlanTemplate.maxSectionDepth
        #expect(limit == 50)
        let deepest = String(repeating: "{{#a}}", count: limit) + "x" + String(repeating: "{{/a}}", count: limit)
        #expect(try PlanTemplate(deepest).render(["a": true]) == "x")
        let tooDeep = String(repeating: "{{#a}}", count: limit + 1)
        #expect(throws: TemplateError(message: "sections nest deeper than 50", offset: 300, line: 1, column: 301)) {
            try PlanTemplate(tooDeep)
        }
    }

    @Test func descriptionIsLineColonColumn() {
        let error = TemplateError(message: "section 'a' is never closed", offset: 6, line: 1, column: 7)
        #expect(error.description == "1:7: section 'a' is never closed")
    }
}
