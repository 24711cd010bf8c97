import Foundation
import SluiceJSON
import SluiceProviders
import Testing

@Suite struct SchemaInstanceGeneratorTests {
    let generator = SchemaInstanceGenerator(topic: "AI agents")

    @Test func objectsHaveEveryPropertyAndArraysThreeItems() throws {
        let schema: JSONValue = [
            "type": "object",
            "properties": [
                "title": ["type": "string"],
                "sections": ["type": "array", "items": ["type": "object", "properties": ["heading": ["type": "string"]], "required": ["heading"]]],
            ],
            "required": ["title", "sections"],
        ]
        let value = generator.instance(of: schema)
        #expect(value["title"]?.stringValue?.contains("AI agents") == true)
        #expect(value["sections"]?.arrayValue?.count == 3)
        #expect(value["sections"]?[0]?["heading"]?.stringValue != nil)
    }

    @Test(arguments: [
        (["type": "array", "items": ["type": "string"], "minItems": 5] as JSONValue, 5),
        (["type": "array", "items": ["type": "string"], "maxItems": 2] as JSONValue, 2),
        (["type": "array", "items": ["type": "string"], "minItems": 1, "maxItems": 1] as JSONValue, 1),
        (["type": "array", "prefixItems": [["type": "integer"], ["type": "string"]], "items": false] as JSONValue, 2),
    ])
    func arrayLengthsRespectBounds(schema: JSONValue, expected: Int) {
        #expect(generator.instance(of: schema).arrayValue?.count == expected)
    }

    @Test func numbersStayInBounds() throws {
        let schema: JSONValue = [
            "type": "object",
            "properties": [
                "score": ["type": "number", "minimum": 0, "maximum": 10],
                "count": ["type": "integer", "minimum": 1, "maximum": 2],
                "small": ["type": "integer", "exclusiveMaximum": 0],
                "step": ["type": "integer", "minimum": 7, "multipleOf": 5],
            ],
        ]
        let value = generator.instance(of: schema)
        let score = try #require(value["score"]?.doubleValue)
        #expect(score >= 0 && score <= 10)
        let count = try #require(value["count"]?.integerValue)
        #expect(count >= 1 && count <= 2)
        #expect((value["small"]?.integerValue ?? 0) < 0)
        #expect(value["step"]?.integerValue == 10)
    }

    @Test func enumsConstsRefsAndFormats() {
        let schema: JSONValue = [
            "type": "object",
            "$defs": ["kind": ["enum": ["news", "analysis"]]],
            "properties": [
                "kind": ["$ref": "#/$defs/kind"],
                "version": ["const": 2],
                "link": ["type": "string", "format": "uri"],
                "day": ["type": "string", "format": "date"],
                "either": ["anyOf": [["type": "boolean"], ["type": "string"]]],
                "short": ["type": "string", "maxLength": 4],
                "long": ["type": "string", "minLength": 200],
                "maybe": ["type": ["null", "integer"]],
            ],
        ]
        let value = generator.instance(of: schema)
        #expect(value["kind"] == "news")
        #expect(value["version"] == 2)
        #expect(value["link"]?.stringValue?.hasPrefix("https://") == true)
        #expect(value["day"]?.stringValue?.count == 10)
        #expect(value["either"] == true)
        #expect((value["short"]?.stringValue?.count ?? 99) <= 4)
        #expect((value["long"]?.stringValue?.count ?? 0) >= 200)
        #expect(value["maybe"]?.integerValue != nil)
    }

    @Test func recursiveSchemasEnd() {
        let schema: JSONValue = [
            "$ref": "#/$defs/node",
            "$defs": ["node": ["type": "object", "properties": ["name": ["type": "string"], "children": ["type": "array", "items": ["$ref": "#/$defs/node"]]], "required": ["name"]]],
        ]
        let value = generator.instance(of: schema)
        #expect(value["name"] != nil)
    }
}

/// Generated instances pass the JSON Schema validator, for hand-written schemas and every
/// structured-output schema in the shipped plans.
@Suite struct GeneratedInstancesValidateTests {
    /// Every `llm` step's schema in plans/*.json. A file that cannot be read or parsed becomes
    /// a case with the `false` schema and the error in its name, so the test fails saying why.
    static var planSchemas: [(String, JSONValue)] {
        let folder = RepositoryPaths.root + "/plans"
        var found: [(String, JSONValue)] = []
        do {
            for file in try FileManager.default.contentsOfDirectory(atPath: folder).sorted() where file.hasSuffix(".json") {
                do {
                    let plan = try JSONParser.parse(try String(contentsOfFile: folder + "/" + file, encoding: .utf8))
                    collect(plan["steps"], file: file, into: &found)
                } catch {
                    found.append(("\(file): \(error)", false))
                }
            }
        } catch {
            found.append(("\(folder): \(error)", false))
        }
        return found
    }

    private static func collect(_ steps: JSONValue?, file: String, into found: inout [(String, JSONValue)]) {
        for step in steps?.arrayValue ?? [] {
            if let schema = step["schema"], step["kind"] == "llm" {
                found.append(("\(file)#\(step["id"]?.stringValue ?? "?")", schema))
            }
            collect(step["steps"], file: file, into: &found)
        }
    }

    static let handWritten: [(String, JSONValue)] = [
        ("nested", ["type": "object", "properties": ["a": ["type": "array", "minItems": 4, "items": ["type": "object", "properties": ["b": ["type": "integer", "minimum": 10, "maximum": 12]], "required": ["b"], "additionalProperties": false]]], "required": ["a"], "additionalProperties": false]),
        ("formats", ["type": "object", "properties": ["u": ["type": "string", "format": "uri"], "d": ["type": "string", "format": "date-time"], "e": ["enum": ["x", "y"]], "n": ["type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1]]]),
        ("allOf", ["allOf": [["type": "object", "properties": ["a": ["type": "string"]], "required": ["a"]], ["properties": ["b": ["type": "boolean"]], "required": ["b"]]]]),
    ]

    @Test(arguments: handWritten + planSchemas)
    func generatedInstancesAreValid(name: String, schema: JSONValue) throws {
        let instance = SchemaInstanceGenerator(topic: "AI agents").instance(of: schema)
        let errors = try JSONSchema(schema).validate(instance)
        #expect(errors.isEmpty, "\(name): \(errors.map(\.description)) for \(instance.serialized())")
    }
}
