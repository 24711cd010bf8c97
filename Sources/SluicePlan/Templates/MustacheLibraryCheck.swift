import Mustache
import SluiceJSON

/// swift-mustache with its own defaults (HTML escaping, partials), for the conformance tests.
///
/// The Mustache spec expects `{{x}}` to be HTML-escaped and partials to work, which plans
/// deliberately do not do; the tests use this to check the library itself against the spec,
/// fed through the same JSON wrapping (`TemplateData`) that plans use.
enum MustacheLibraryCheck {
    /// Renders `template` with `data`, registering `partials` by name.
    /// - Throws: the library's parser error when the template or a partial does not compile.
    static func render(_ template: String, data: JSONValue, partials: [String: String]) throws -> String {
        var library = MustacheLibrary()
        for (name, text) in partials {
            try library.register(text, named: name)
        }
        return try MustacheTemplate(string: template).render(TemplateData.wrap(data), library: library)
    }
}
