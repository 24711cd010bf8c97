import Foundation
import Testing
import SluiceJSON
@testable import SluicePlan

/// Loading the CEL conformance fixtures (../shared/conformance/cel, see its README.md for the format).
enum CELFixtures {
    static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // SluicePlanTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // the repository
        .appendingPathComponent("../shared/conformance/cel")
        .standardizedFileURL

    struct Case: Sendable, CustomTestStringConvertible {
        var id: String  // file/section/test
        var expression: String
        var bindings: [String: CELValue]
        var expected: Expected
        var disableCheck: Bool
        var typeEnvironment: [String: String]

        var testDescription: String { id }
    }

    enum Expected: Sendable {
        case value(CELValue)
        case error
    }

    /// The fixture files' names without extension, sorted.
    static func fileNames() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".json") }
            .map { String($0.dropLast(5)) }
            .sorted()
    }

    static func cases(inFile name: String) throws -> [Case] {
        let bytes = try [UInt8](Data(contentsOf: directory.appendingPathComponent(name + ".json")))
        let document = try JSONParser.parse(bytes)
        var cases: [Case] = []
        for section in document["sections"]?.arrayValue ?? [] {
            let sectionName = section["name"]?.stringValue ?? "?"
            for test in section["tests"]?.arrayValue ?? [] {
                let testName = test["name"]?.stringValue ?? "?"
                let id = "\(name)/\(sectionName)/\(testName)"
                var bindings: [String: CELValue] = [:]
                for (key, binding) in test["bindings"]?.objectValue ?? JSONObject() {
                    bindings[key] = try Self.value(from: binding, in: id)
                }
                let expected: Expected
                if let value = test["value"] {
                    expected = .value(try Self.value(from: value, in: id))
                } else {
                    expected = .error
                }
                var environment: [String: String] = [:]
                for (key, type) in test["type_env"]?.objectValue ?? JSONObject() {
                    environment[key] = type.stringValue ?? "dyn"
                }
                cases.append(
                    Case(
                        id: id, expression: test["expr"]?.stringValue ?? "", bindings: bindings, expected: expected,
                        disableCheck: test["disable_check"]?.boolValue ?? false, typeEnvironment: environment))
            }
        }
        return cases
    }

    struct BadFixture: Error, CustomStringConvertible {
        var description: String
    }

    /// Decodes a fixture VALUE: `{"int64": "5"}`, `{"list": [...]}`, `{"map": [[k, v], ...]}`, ….
    static func value(from json: JSONValue, in id: String) throws -> CELValue {
        guard let object = json.objectValue, object.count == 1, let (kind, payload) = object.members.first else {
            throw BadFixture(description: "\(id): a VALUE must be an object with one key")
        }
        switch kind {
        case "null": return .null
        case "bool":
            guard let b = payload.boolValue else { break }
            return .bool(b)
        case "int64":
            guard let text = payload.stringValue, let i = Int64(text) else { break }
            return .int(i)
        case "uint64":
            guard let text = payload.stringValue, let u = UInt64(text) else { break }
            return .uint(u)
        case "double":
            switch payload.stringValue {
            case "NaN": return .double(.nan)
            case "Infinity": return .double(.infinity)
            case "-Infinity": return .double(-.infinity)
            default:
                guard let d = payload.doubleValue else { break }
                // JSON `-0.0` must stay negative zero.
                return .double(d)
            }
        case "string":
            guard let s = payload.stringValue else { break }
            return .string(s)
        case "bytes_b64":
            guard let text = payload.stringValue, let data = Data(base64Encoded: text) else { break }
            return .bytes([UInt8](data))
        case "list":
            guard let elements = payload.arrayValue else { break }
            return .list(try elements.map { try value(from: $0, in: id) })
        case "map":
            guard let entries = payload.arrayValue else { break }
            var map = CELMap()
            for entry in entries {
                guard let pair = entry.arrayValue, pair.count == 2 else { throw BadFixture(description: "\(id): bad map entry") }
                map.insert(try value(from: pair[0], in: id), try value(from: pair[1], in: id))
            }
            return .map(map)
        case "type":
            guard let name = payload.stringValue else { break }
            return .type(name)
        default: break
        }
        throw BadFixture(description: "\(id): cannot decode VALUE \(kind)")
    }
}
