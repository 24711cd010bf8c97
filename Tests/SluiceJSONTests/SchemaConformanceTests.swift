import Foundation
import SluiceJSON
import Testing

/// The official JSON-Schema-Test-Suite, draft 2020-12: every required test, and the
/// optional ones (except `optional/format/`) with the skips below.
/// `remotes/` is served from disk: `http://localhost:1234/<path>` is `remotes/<path>`.
@Suite struct SchemaConformanceTests {
    /// Tests not expected to pass, by "file: group: test", "file: group" or "file",
    /// with the reason. No required test is skipped. Every entry must match a test.
    static let skipped: [String: String] = [
        "optional/cross-draft.json: refs to historic drafts are processed as historic drafts":
            "only 2020-12 is implemented; a $ref to a draft 2019-09 schema is read as 2020-12",
        "optional/dependencies-compatibility.json":
            "`dependencies` (draft 7 and earlier) is not a 2020-12 keyword; use dependentRequired/dependentSchemas",
        "optional/format-assertion.json":
            "format is an annotation only; the format-assertion vocabulary is not implemented",
    ]

    @Test(arguments: SchemaSuite.requiredFiles)
    func required(file: String) throws {
        let results = try SchemaSuite.run(file: file)
        #expect(results.skipped == 0, "required tests are never skipped")
        SchemaSuite.record(results)
    }

    @Test(arguments: SchemaSuite.optionalFiles)
    func optional(file: String) throws {
        SchemaSuite.record(try SchemaSuite.run(file: file))
    }

    /// Prints the totals, so a run shows how much of the suite passes.
    @Test func totals() throws {
        var required = SchemaSuite.Results()
        var optional = SchemaSuite.Results()
        for file in SchemaSuite.requiredFiles { required.add(try SchemaSuite.run(file: file)) }
        for file in SchemaSuite.optionalFiles { optional.add(try SchemaSuite.run(file: file)) }
        print("JSON-Schema-Test-Suite draft2020-12 required: \(required.summary)")
        print("JSON-Schema-Test-Suite draft2020-12 optional: \(optional.summary)")
        #expect(required.failures.isEmpty && required.skipped == 0)
        #expect(required.passed == 1299, "the pinned suite has 1299 required tests")
    }
}

/// Loads and runs the suite's files.
enum SchemaSuite {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("../shared/conformance/json-schema-test-suite").standardizedFileURL

    static var testsDirectory: URL { root.appendingPathComponent("tests/draft2020-12") }

    static let requiredFiles: [String] = jsonFiles(in: "")
    static let optionalFiles: [String] = jsonFiles(in: "optional/")

    private static func jsonFiles(in folder: String) -> [String] {
        let path = testsDirectory.appendingPathComponent(folder).path
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted().map { folder + $0 }
    }

    /// Every file under `remotes/`, registered at its `http://localhost:1234/` URL.
    static let registry: SchemaRegistry = {
        var registry = SchemaRegistry()
        let remotes = root.appendingPathComponent("remotes")
        guard let walker = FileManager.default.enumerator(atPath: remotes.path) else { return registry }
        while let relative = walker.nextObject() as? String {
            guard relative.hasSuffix(".json") else { continue }
            do {
                let data = try Data(contentsOf: remotes.appendingPathComponent(relative))
                registry.add(try JSONParser.parse(String(decoding: data, as: UTF8.self)), uri: "http://localhost:1234/" + relative)
            } catch {
                Issue.record("remote \(relative) does not load: \(error)")
            }
        }
        return registry
    }()

    struct Results {
        var passed = 0
        var skipped = 0
        var failures: [String] = []
        var unusedSkips: [String] = []

        mutating func add(_ other: Results) {
            passed += other.passed
            skipped += other.skipped
            failures += other.failures
            unusedSkips += other.unusedSkips
        }

        var summary: String { "\(passed) passed, \(failures.count) failed, \(skipped) skipped" }
    }

    static func record(_ results: Results) {
        for failure in results.failures { Issue.record(Comment(rawValue: failure)) }
        for key in results.unusedSkips { Issue.record("skip entry matches no test: \(key)") }
    }

    static func run(file: String) throws -> Results {
        let data = try Data(contentsOf: testsDirectory.appendingPathComponent(file))
        let groups = try JSONParser.parse(String(decoding: data, as: UTF8.self))
        var results = Results()
        var usedSkips: Set<String> = []
        for group in groups.arrayValue ?? [] {
            let groupKey = "\(file): \(group["description"]?.stringValue ?? "?")"
            let compiled = Result { () throws(SchemaError) in try JSONSchema(group["schema"] ?? .null, registry: registry) }
            for test in group["tests"]?.arrayValue ?? [] {
                let key = "\(groupKey): \(test["description"]?.stringValue ?? "?")"
                if let skip = [key, groupKey, file].first(where: { SchemaConformanceTests.skipped[$0] != nil }) {
                    usedSkips.insert(skip)
                    results.skipped += 1
                    continue
                }
                let schema: JSONSchema
                switch compiled {
                case .success(let success): schema = success
                case .failure(let error):
                    results.failures.append("\(key): schema does not compile: \(error)")
                    continue
                }
                let instance = test["data"] ?? .null
                let expected = test["valid"]?.boolValue ?? false
                let valid = schema.isValid(instance)
                let errors = schema.validate(instance)
                if valid != expected {
                    results.failures.append("\(key): expected \(expected ? "valid" : "invalid"), got \(valid ? "valid" : "invalid")")
                } else if errors.isEmpty != valid {
                    results.failures.append("\(key): validate() and isValid() disagree: \(errors)")
                } else {
                    results.passed += 1
                }
            }
        }
        results.unusedSkips = SchemaConformanceTests.skipped.keys
            .filter { $0.hasPrefix(file + ": ") || $0 == file }
            .filter { !usedSkips.contains($0) }
            .sorted()
        return results
    }
}
