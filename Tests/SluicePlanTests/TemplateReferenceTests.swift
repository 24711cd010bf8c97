import Testing

@testable import SluicePlan

@Suite struct TemplateReferenceTests {
    private func refs(_ source: String) throws -> [TemplateReference] {
        try PlanTemplate(source).references
    }

    private func ref(
        _ path: [String], _ offset: Int, depth: Int = 0, section: Bool = false, in sections: [String] = []
    ) -> TemplateReference {
        TemplateReference(path: path, offset: offset, sectionDepth: depth, isSection: section, enclosingSections: sections)
    }

    @Test func dottedPathsAndOffsets() throws {
        #expect(
            try refs("Outline {{inputs.task}} in {{ inputs.days }} days.") == [
                ref(["inputs", "task"], 8),
                ref(["inputs", "days"], 27),
            ])
        #expect(try refs("{{steps.outline.output.title}}") == [ref(["steps", "outline", "output", "title"], 0)])
        #expect(try refs("no tags at all") == [])
    }

    @Test func everyKindOfInterpolation() throws {
        #expect(
            try refs("{{a}}{{{b}}}{{&c}}{{& d }}") == [
                ref(["a"], 0), ref(["b"], 5), ref(["c"], 12), ref(["d"], 18),
            ])
    }

    @Test func sectionsAndDepth() throws {
        let source = "{{#steps.sections.output}}{{title}}{{^done}}{{item.x}}{{/done}}{{/steps.sections.output}}{{.}}"
        #expect(
            try refs(source) == [
                ref(["steps", "sections", "output"], 0, section: true),
                ref(["title"], 26, depth: 1, in: ["steps.sections.output"]),
                ref(["done"], 35, depth: 1, section: true, in: ["steps.sections.output"]),
                ref(["item", "x"], 44, depth: 2, in: ["steps.sections.output", "done"]),
                ref([], 89),
            ])
    }

    @Test func implicitIteratorHasAnEmptyPath() throws {
        #expect(try refs("{{#.}}{{.}}{{/.}}") == [ref([], 0, section: true), ref([], 6, depth: 1, in: ["."])])
        #expect(try refs("{{.}}").first?.name == ".")
        #expect(try refs("{{a.b}}").first?.description == "a.b")
    }

    @Test func commentsAndSetDelimitersAreNotReferences() throws {
        #expect(try refs("{{! {{not.this}} }}{{yes}}") == [ref(["yes"], 19)])
        #expect(
            try refs("{{=<% %>=}}<%a%>{{b}}<%={{ }}=%>{{c}}") == [
                ref(["a"], 11), ref(["c"], 32),
            ])
        #expect(try refs("{{= | | =}}|#s||&x||/s|") == [ref(["s"], 11, section: true), ref(["x"], 15, depth: 1, in: ["s"])])
    }

    @Test("offsets count characters, not bytes or UTF-16 units")
    func offsetsCountCharacters() throws {
        #expect(try refs("é🇫🇷 {{x}}") == [ref(["x"], 3)])
        #expect(try refs("a\r\n{{x}}") == [ref(["x"], 2)])
    }
}
