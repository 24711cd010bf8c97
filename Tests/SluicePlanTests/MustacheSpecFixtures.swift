import Foundation
import SluiceJSON
import Testing

/// One test from the Mustache spec (../shared/conformance/mustache-spec/specs/*.json).
struct MustacheSpecCase: Sendable, CustomTestStringConvertible {
    let file: String
    let name: String
    let template: String
    let data: JSONValue
    /// The spec's partials by name; `nil` when the test declares none (its template uses none).
    let partials: [String: String]?
    let expected: String
    /// Set when the fixtures could not be loaded, so the failure shows up as a test issue.
    var loadError: String? = nil

    var testDescription: String { "\(file): \(name)" }
}

/// Loads the vendored spec files from disk (never from the network).
enum MustacheSpecFixtures {
    /// The spec files we run: all of the required modules. The optional ones (`~lambdas`,
    /// `~inheritance`, `~dynamic-names`) are not vendored, and plans refuse those features anyway.
    static let files = ["comments", "delimiters", "interpolation", "inverted", "partials", "sections"]

    static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // SluicePlanTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // the package root
        .appendingPathComponent("../shared/conformance/mustache-spec/specs")
        .standardizedFileURL

    /// Every case of every file, or one case carrying the load error.
    static let cases: [MustacheSpecCase] = {
        do {
            return try files.flatMap(load)
        } catch {
            return [
                MustacheSpecCase(
                    file: "fixtures", name: "load", template: "", data: nil, partials: nil, expected: "",
                    loadError: "\(error)")
            ]
        }
    }()

    struct FixtureError: Error, CustomStringConvertible {
        let description: String
    }

    static func load(_ file: String) throws -> [MustacheSpecCase] {
        let url = directory.appendingPathComponent("\(file).json")
        let bytes = try [UInt8](Data(contentsOf: url))
        let document = try JSONParser.parse(bytes)
        guard let tests = document["tests"]?.arrayValue else {
            throw FixtureError(description: "\(url.path): no 'tests' array")
        }
        return try tests.map { test in
            guard let name = test["name"]?.stringValue, let template = test["template"]?.stringValue,
                let expected = test["expected"]?.stringValue, let data = test["data"]
            else {
                throw FixtureError(description: "\(url.path): a test lacks name, template, data or expected")
            }
            var partials: [String: String]? = nil
            if let declared = test["partials"] {
                guard let object = declared.objectValue else {
                    throw FixtureError(description: "\(url.path): 'partials' of '\(name)' is not an object")
                }
                partials = [:]
                for (partialName, text) in object {
                    guard let text = text.stringValue else {
                        throw FixtureError(description: "\(url.path): partial '\(partialName)' is not a string")
                    }
                    partials?[partialName] = text
                }
            }
            return MustacheSpecCase(
                file: file, name: name, template: template, data: data, partials: partials, expected: expected)
        }
    }
}
