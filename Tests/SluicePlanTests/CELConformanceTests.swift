import Foundation
import SluiceJSON
import Testing
@testable import SluicePlan

/// The CEL conformance suite (../shared/conformance/cel: 997 tests from google/cel-spec), run
/// through the evaluator. Every test runs; the ones listed in `skipped` are expected to fail for
/// the reason given, and a skipped test that starts passing is reported so the list stays true.
@Suite("CEL conformance")
struct CELConformanceTests {
    /// Tests (`file/section/test`) or whole sections (`file/section`) not expected to pass, and why.
    /// Empty: every one of the 997 fixture tests passes, and the checker accepts every test the
    /// reference runner type-checks.
    static let skipped: [String: String] = [:]

    /// Upstream tests the fixture conversion dropped (../shared/conformance/cel/meta/
    /// conversion_report.json), by reason: whole features outside the plan subset. They are not
    /// in the fixtures, so they are not run; `droppedTestsAreOutOfScope` checks that every drop
    /// reason in the report is one of these.
    static let outOfScope: [String: String] = [
        "protobuf_messages": "protobuf message types (message literals, google.protobuf.Value/Struct/ListValue/Any): plan data is JSON, so there are no messages",
        "wrappers": "google.protobuf wrapper types (Int32Value, …): protobuf only",
        "timestamps_durations": "timestamp()/duration() values and functions: not in the plan subset yet (time arithmetic is not needed by the shipped plans)",
        "enums": "protobuf enums: protobuf only",
        "extension_functions": "functions outside the CEL standard definitions",
        "optionals": "optional syntax (.?, [?, {?): not in the subset",
        "container": "namespace containers: plans have no packages",
        "typed_result_or_check_only": "checked-type expectations: our checker reports errors, not CEL type names",
        "unknowns": "unknown-set results: evaluation here is never partial",
        "disable_macros": "parsing with macros disabled: macros are always on",
        "locale": "locale-dependent formatting",
        "unencodable": "features the fixture format cannot express",
    ]

    static func skipReason(_ id: String) -> String? {
        if let reason = skipped[id] { return reason }
        let section = id.split(separator: "/").prefix(2).joined(separator: "/")
        return skipped[section]
    }

    @Test("conformance file", arguments: try CELFixtures.fileNames())
    func file(_ name: String) throws {
        let cases = try CELFixtures.cases(inFile: name)
        #expect(!cases.isEmpty)
        var passed = 0, skipped = 0
        for testCase in cases {
            let failure = Self.run(testCase)
            if let reason = Self.skipReason(testCase.id) {
                skipped += 1
                if failure == nil { Issue.record("\(testCase.id) passes but is listed as skipped (\(reason))") }
                continue
            }
            if let failure {
                Issue.record("\(testCase.id): \(testCase.expression.debugDescription): \(failure)")
            } else {
                passed += 1
            }
        }
        print("CEL conformance \(name): \(passed) passed, \(skipped) skipped, \(cases.count) tests")
    }

    @Test func droppedTestsAreOutOfScope() throws {
        let bytes = try [UInt8](Data(contentsOf: CELFixtures.directory.appendingPathComponent("meta/conversion_report.json")))
        let report = try JSONParser.parse(bytes)
        var dropped = 0
        for file in report["files"]?.arrayValue ?? [] {
            for test in file["dropped_tests"]?.arrayValue ?? [] {
                dropped += 1
                for reason in test["all_reasons"]?.arrayValue ?? [] {
                    let name = reason.stringValue ?? "?"
                    #expect(Self.outOfScope[name] != nil, "\(file["file"]?.stringValue ?? "?")/\(test["test"]?.stringValue ?? "?"): undocumented drop reason \(name)")
                }
            }
        }
        #expect(dropped == 329)
    }

    @Test("the runner notices a wrong kind, a wrong value and a missing error")
    func runnerIsStrict() {
        func check(_ expression: String, _ expected: CELFixtures.Expected) -> String? {
            Self.run(CELFixtures.Case(id: "self", expression: expression, bindings: [:], expected: expected, disableCheck: false, typeEnvironment: [:]))
        }
        #expect(check("1", .value(.uint(1))) != nil)
        #expect(check("1", .value(.double(1))) != nil)
        #expect(check("1 + 1", .value(.int(3))) != nil)
        #expect(check("1", .error) != nil)
        #expect(check("1 / 0", .error) == nil)
        #expect(check("0.0 / 0.0", .value(.double(.nan))) == nil)
    }

    /// Runs one test; nil when it passes, otherwise what went wrong.
    static func run(_ testCase: CELFixtures.Case) -> String? {
        let outcome: Result<CELValue, CELError>
        do {
            let expression = try CELExpression(parsing: testCase.expression)
            if !testCase.disableCheck {
                // A test that the reference runner type-checks must pass our checker too.
                var variables: [String: CELType] = [:]
                for (name, text) in testCase.typeEnvironment {
                    guard let type = CELType(parsing: text) else { return "cannot parse type_env type '\(text)'" }
                    variables[name] = type
                }
                let problems = expression.check(CELTypeEnvironment(variables: variables))
                if !problems.isEmpty { return "the checker rejects it: \(problems.map(\.description))" }
            }
            outcome = .success(try expression.evaluate(testCase.bindings))
        } catch {
            outcome = .failure(error)
        }
        switch (testCase.expected, outcome) {
        case (.value(let expected), .success(let actual)):
            return expected == actual ? nil : "expected \(expected), got \(actual)"
        case (.value(let expected), .failure(let error)):
            return "expected \(expected), got error: \(error)"
        case (.error, .success(let actual)):
            return "expected an error, got \(actual)"
        case (.error, .failure):
            return nil
        }
    }
}
