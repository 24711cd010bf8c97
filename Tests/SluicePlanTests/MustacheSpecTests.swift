import SluiceJSON
import Testing

@testable import SluicePlan

/// The Mustache spec, run twice: against swift-mustache with its own HTML defaults (is the
/// library right?), and against `PlanTemplate` (does our scanner accept the same grammar, and
/// is the output the spec's with no escaping?).
@Suite struct MustacheSpecTests {
    /// Spec cases swift-mustache 2.1.1 gets wrong, with the reason. Checked with
    /// `withKnownIssue`, so a fix in the library shows up as an unexpected pass.
    static let libraryDeviations: [String: String] = [:]

    @Test func fixturesArePinned() {
        let counts = Dictionary(grouping: MustacheSpecFixtures.cases, by: \.file).mapValues(\.count)
        #expect(
            counts == [
                "comments": 12, "delimiters": 14, "interpolation": 42, "inverted": 22, "partials": 12,
                "sections": 34,
            ])
    }

    @Test("swift-mustache with HTML escaping", arguments: MustacheSpecFixtures.cases)
    func library(_ test: MustacheSpecCase) throws {
        if let loadError = test.loadError {
            Issue.record("could not load the spec fixtures: \(loadError)")
            return
        }
        let check = {
            let rendered = try MustacheLibraryCheck.render(
                test.template, data: test.data, partials: test.partials ?? [:])
            #expect(rendered == test.expected, "\(test.template.debugDescription)")
        }
        if let reason = Self.libraryDeviations[test.testDescription] {
            withKnownIssue(Comment(rawValue: reason)) { try check() }
        } else {
            try check()
        }
    }

    @Test("PlanTemplate: same grammar, plain-text rendering", arguments: MustacheSpecFixtures.cases)
    func planTemplate(_ test: MustacheSpecCase) throws {
        guard test.loadError == nil else { return }  // reported by `library`
        if test.partials != nil {
            // Every spec template that declares partials uses one; plans refuse them.
            let error = #expect(throws: TemplateError.self) { try PlanTemplate(test.template) }
            #expect(error?.message == "partials are not supported in plan templates")
            return
        }
        let template = try PlanTemplate(test.template)
        // The spec's output with its HTML escapes undone is what plain text must give: no spec
        // template or data holds a literal entity, so undoing them cannot touch anything else.
        #expect(template.render(test.data) == Self.htmlUnescaped(test.expected), "\(test.template.debugDescription)")
    }

    /// Undoes swift-mustache's HTML escaping (`&lt; &gt; &amp; &quot; &#39;`).
    static func htmlUnescaped(_ text: String) -> String {
        text.replacing("&lt;", with: "<").replacing("&gt;", with: ">").replacing("&quot;", with: "\"")
            .replacing("&#39;", with: "'").replacing("&amp;", with: "&")
    }
}
