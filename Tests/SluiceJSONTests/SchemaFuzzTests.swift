import SluiceTesting
import Foundation
import SluiceJSON
import Testing

/// Mutated schemas and instances from the suite: compiling either succeeds or throws a
/// `SchemaError`, validation never crashes or hangs, and `validate` agrees with `isValid`.
/// Seeded, so a failure reproduces; bounded by a fixed number of mutations.
@Suite struct SchemaFuzzTests {
    @Test(arguments: SchemaSuite.requiredFiles)
    func mutatedInputs(file: String) throws {
        var random = SeededRandom(seed: UInt64(truncatingIfNeeded: file.utf8.reduce(7) { $0 &* 31 &+ Int($1) }))
        let data = try Data(contentsOf: SchemaSuite.testsDirectory.appendingPathComponent(file))
        let groups = try JSONParser.parse(String(decoding: data, as: UTF8.self))
        for group in groups.arrayValue ?? [] {
            let instances = (group["tests"]?.arrayValue ?? []).compactMap { $0["data"] }
            var schemas = [group["schema"] ?? true]
            for _ in 0..<4 { schemas.append(Self.mutate(group["schema"] ?? true, &random)) }
            for schemaValue in schemas {
                let schema: JSONSchema
                do {
                    schema = try JSONSchema(schemaValue, registry: SchemaSuite.registry)
                } catch {
                    #expect(!error.message.isEmpty)
                    continue
                }
                for instance in instances {
                    for candidate in [instance, Self.mutate(instance, &random), Self.mutate(instance, &random)] {
                        let errors = schema.validate(candidate)
                        #expect(errors.isEmpty == schema.isValid(candidate), "\(file): \(schemaValue.serialized()) on \(candidate.serialized())")
                    }
                }
            }
        }
    }

    private static let replacements: [JSONValue] = [
        .null, true, false, 0, -1, 1.5, 1e300, "", "a", "é", [], [1, "a"], [:], ["a": 1], ["$ref": "#"],
        ["type": "string"], ["minimum": "x"], ["items": [true]],
    ]

    /// Replaces, removes or wraps one node somewhere in `value`.
    private static func mutate(_ value: JSONValue, _ random: inout SeededRandom) -> JSONValue {
        let descend = random.next() % 3 != 0
        switch value {
        case .array(var elements) where descend && !elements.isEmpty:
            let index = Int(random.next() % UInt64(elements.count))
            if random.next() % 4 == 0 {
                elements.remove(at: index)
            } else {
                elements[index] = mutate(elements[index], &random)
            }
            return .array(elements)
        case .object(var object) where descend && !object.isEmpty:
            let key = object.keys[Int(random.next() % UInt64(object.count))]
            if random.next() % 4 == 0 {
                object[key] = nil
            } else if let member = object[key] {
                object[key] = mutate(member, &random)
            }
            return .object(object)
        default:
            switch random.next() % 3 {
            case 0: return .array([value])
            case 1: return .object(JSONObject([("k", value)]))
            default: return replacements[Int(random.next() % UInt64(replacements.count))]
            }
        }
    }
}

