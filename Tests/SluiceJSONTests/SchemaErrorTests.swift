import SluiceJSON
import Testing

/// The errors users see: message, instance path, keyword and schema path, on plan-shaped
/// documents (the validator checks plans, plan inputs and model output).
@Suite struct SchemaErrorTests {
    /// A cut-down plan schema using the constructs the real one does: `$defs`/`$ref`,
    /// `allOf` of `if`/`then` per step kind, `unevaluatedProperties`, `oneOf`, `enum`,
    /// `const`, `pattern`.
    static let planSchema = #"""
        {
          "$schema": "https://json-schema.org/draft/2020-12/schema",
          "$id": "https://sluice.example/plan.schema.json",
          "type": "object",
          "required": ["name", "steps"],
          "additionalProperties": false,
          "properties": {
            "$schema": { "type": "string" },
            "name": { "type": "string", "pattern": "^[a-z][a-z0-9_]*$" },
            "title": { "type": "string", "minLength": 1 },
            "models": { "type": "object", "additionalProperties": { "$ref": "#/$defs/model" } },
            "steps": { "type": "array", "items": { "$ref": "#/$defs/step" } }
          },
          "$defs": {
            "model": {
              "oneOf": [
                { "type": "string", "pattern": "^[a-z]+:" },
                { "type": "object", "required": ["model"], "properties": { "model": { "type": "string" } } }
              ]
            },
            "step": {
              "type": "object",
              "required": ["id", "kind"],
              "properties": {
                "id": { "type": "string", "pattern": "^[a-z][a-z0-9_]*$" },
                "kind": { "enum": ["llm", "template"] },
                "retry": {
                  "type": "object",
                  "properties": { "max_attempts": { "type": "integer", "minimum": 1 } },
                  "additionalProperties": false
                }
              },
              "allOf": [
                { "if": { "properties": { "kind": { "const": "llm" } } }, "then": { "$ref": "#/$defs/llm" } },
                { "if": { "properties": { "kind": { "const": "template" } } }, "then": { "$ref": "#/$defs/template" } }
              ],
              "unevaluatedProperties": false
            },
            "llm": {
              "required": ["prompt"],
              "properties": { "prompt": { "type": "string" }, "temperature": { "type": "number", "maximum": 2 } }
            },
            "template": {
              "required": ["template"],
              "properties": { "template": { "type": "string" } }
            }
          }
        }
        """#

    static let schema: JSONSchema = {
        do {
            return try JSONSchema(try JSONParser.parse(planSchema))
        } catch {
            preconditionFailure("the test schema must compile: \(error)")
        }
    }()

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var instance: String
        /// "instancePath keyword schemaPath: message"
        var expected: [String]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "valid plan", instance: #"""
            {"name": "news", "models": {"default": "openai:gpt-4o", "judge": {"model": "openai:o1"}},
             "steps": [{"id": "a", "kind": "llm", "prompt": "hi", "retry": {"max_attempts": 2}},
                       {"id": "b", "kind": "template", "template": "x"}]}
            """#, expected: []),
        Case(name: "missing required properties", instance: "{}", expected: [
            "/ required /required: missing required property 'name'",
            "/ required /required: missing required property 'steps'",
        ]),
        Case(name: "typo at top level", instance: #"{"name": "a", "steps": [], "titel": "x"}"#, expected: [
            "/titel additionalProperties /additionalProperties: unknown property 'titel' (not allowed by additionalProperties)",
        ]),
        Case(name: "wrong type deep inside", instance: #"{"name": "a", "steps": [{"id": "s", "kind": "llm", "prompt": "p", "retry": {"max_attempts": "3"}}]}"#, expected: [
            "/steps/0/retry/max_attempts type /$defs/step/properties/retry/properties/max_attempts/type: expected integer, got string",
        ]),
        Case(name: "minimum", instance: #"{"name": "a", "steps": [{"id": "s", "kind": "llm", "prompt": "p", "retry": {"max_attempts": 0}}]}"#, expected: [
            "/steps/0/retry/max_attempts minimum /$defs/step/properties/retry/properties/max_attempts/minimum: must be >= 1, got 0",
        ]),
        Case(name: "missing field of a step kind, without unevaluated noise", instance: #"{"name": "a", "steps": [{"id": "s", "kind": "llm", "temperature": 1}]}"#, expected: [
            "/steps/0 required /$defs/llm/required: missing required property 'prompt'",
        ]),
        Case(name: "typo in a step kind's field", instance: #"{"name": "a", "steps": [{"id": "s", "kind": "llm", "prompt": "p", "promt": "q"}]}"#, expected: [
            "/steps/0/promt unevaluatedProperties /$defs/step/unevaluatedProperties: unknown property 'promt' (not allowed by unevaluatedProperties)",
        ]),
        Case(name: "field of another kind", instance: #"{"name": "a", "steps": [{"id": "s", "kind": "template", "template": "t", "prompt": "p"}]}"#, expected: [
            "/steps/0/prompt unevaluatedProperties /$defs/step/unevaluatedProperties: unknown property 'prompt' (not allowed by unevaluatedProperties)",
        ]),
        Case(name: "a typo and a wrong type in the same step are both reported", instance: #"{"name": "a", "steps": [{"id": 5, "kind": "llm", "promt": "p"}]}"#, expected: [
            "/steps/0/id type /$defs/step/properties/id/type: expected string, got integer",
            "/steps/0 required /$defs/llm/required: missing required property 'prompt'",
            "/steps/0/promt unevaluatedProperties /$defs/step/unevaluatedProperties: unknown property 'promt' (not allowed by unevaluatedProperties)",
        ]),
        Case(name: "unknown kind", instance: #"{"name": "a", "steps": [{"id": "s", "kind": "lm", "prompt": "p"}]}"#, expected: [
            #"/steps/0/kind enum /$defs/step/properties/kind/enum: expected one of "llm", "template", got "lm""#,
        ]),
        Case(name: "pattern", instance: #"{"name": "News Report", "steps": []}"#, expected: [
            #"/name pattern /properties/name/pattern: "News Report" does not match the pattern '^[a-z][a-z0-9_]*$'"#,
        ]),
        Case(name: "minLength counts code points", instance: #"{"name": "a", "steps": [], "title": ""}"#, expected: [
            "/title minLength /properties/title/minLength: expected at least 1 character, got 0",
        ]),
        Case(name: "oneOf with no plausible alternative: one summary", instance: #"{"name": "a", "steps": [], "models": {"default": 5}}"#, expected: [
            "/models/default oneOf /$defs/model/oneOf: does not match any of the oneOf alternatives (0: expected string, got integer (at /models/default); 1: expected object, got integer (at /models/default))",
        ]),
        Case(name: "oneOf with one plausible alternative: its errors", instance: #"{"name": "a", "steps": [], "models": {"default": {"temperature": 0}}}"#, expected: [
            "/models/default required /$defs/model/oneOf/1/required: missing required property 'model'",
        ]),
        Case(name: "every error is reported", instance: #"{"name": 1, "steps": [{"id": "A", "kind": "llm", "prompt": 2}, {"kind": "template", "template": "t"}], "x": 0}"#, expected: [
            "/name type /properties/name/type: expected string, got integer",
            "/steps/0/id pattern /$defs/step/properties/id/pattern: \"A\" does not match the pattern '^[a-z][a-z0-9_]*$'",
            "/steps/0/prompt type /$defs/llm/properties/prompt/type: expected string, got integer",
            "/steps/1 required /$defs/step/required: missing required property 'id'",
            "/x additionalProperties /additionalProperties: unknown property 'x' (not allowed by additionalProperties)",
        ]),
    ]

    @Test(arguments: cases)
    func reportsPathKeywordAndMessage(_ testCase: Case) throws {
        let instance = try JSONParser.parse(testCase.instance)
        let errors = Self.schema.validate(instance)
        let rendered = errors.map { error in
            let path = error.instancePath.tokens.isEmpty ? "/" : error.instancePath.description
            return "\(path) \(error.keyword) \(error.schemaPath): \(error.message)"
        }
        #expect(rendered == testCase.expected)
        #expect(Self.schema.isValid(instance) == testCase.expected.isEmpty)
    }

    @Test func descriptionNamesTheInstancePath() throws {
        let schema = try JSONSchema(try JSONParser.parse(#"{"required": ["task"], "properties": {"days": {"type": "integer"}}}"#))
        let errors = schema.validate(try JSONParser.parse(#"{"days": "7"}"#))
        #expect(errors.map(\.description) == [
            "missing required property 'task' (at /)",
            "expected integer, got string (at /days)",
        ])
    }

    @Test func minLengthCountsCodePointsNotGraphemesOrUTF16() throws {
        let schema = try JSONSchema(try JSONParser.parse(#"{"maxLength": 2}"#))
        #expect(schema.isValid("😀😀"))  // 2 code points, 4 UTF-16 units
        #expect(!schema.isValid("e\u{301}e\u{301}"))  // 2 characters, 4 code points
    }

    @Test func inputSchemasCanBeCheckedAgainstTheMetaschema() throws {
        let metaschema = try JSONSchema(try JSONParser.parse(#"{"$ref": "https://json-schema.org/draft/2020-12/schema"}"#))
        #expect(metaschema.isValid(try JSONParser.parse(Self.planSchema)))
        let errors = metaschema.validate(try JSONParser.parse(#"{"type": "object", "properties": {"days": {"minimum": "1"}}}"#))
        #expect(errors.map(\.description) == ["expected number, got string (at /properties/days/minimum)"])
    }

    @Test func anyOfPrefersTheAlternativeOfTheRightType() throws {
        let metaschema = try JSONSchema(try JSONParser.parse(#"{"$ref": "https://json-schema.org/draft/2020-12/schema"}"#))
        let errors = metaschema.validate(try JSONParser.parse(#"{"properties": {"days": {"type": "integr"}}}"#))
        #expect(errors.map(\.description) == [
            #"expected one of "array", "boolean", "integer", "null", "number", "object", "string", got "integr" (at /properties/days/type)"#
        ])
        #expect(errors.map(\.keyword) == ["enum"])
    }

    @Test func registryServesReferencedSchemas() throws {
        var registry = SchemaRegistry()
        registry.add(try JSONParser.parse(#"{"type": "object", "required": ["url"]}"#), uri: "https://sluice.example/page.json")
        let schema = try JSONSchema(try JSONParser.parse(#"{"items": {"$ref": "https://sluice.example/page.json"}}"#), registry: registry)
        let errors = schema.validate(try JSONParser.parse(#"[{"url": "u"}, {}]"#))
        #expect(errors.map(\.description) == ["missing required property 'url' (at /1)"])
    }

    /// Validation recurses per nesting level; past `maxInstanceDepth` it stops with an error
    /// instead of exhausting the stack.
    @Test(arguments: [JSONSchema.maxInstanceDepth, JSONSchema.maxInstanceDepth + 1, 10_000])
    func deepNestingIsBounded(depth: Int) throws {
        let schema = try JSONSchema(try JSONParser.parse(##"""
            {"$defs": {"node": {"anyOf": [{"type": "integer"}, {"type": "array", "items": {"$ref": "#/$defs/node"}}]}},
             "$ref": "#/$defs/node"}
            """##))
        var value: JSONValue = 1
        for _ in 0..<depth { value = .array([value]) }
        let errors = schema.validate(value)
        #expect(schema.isValid(value) == (depth <= JSONSchema.maxInstanceDepth))
        #expect(errors.isEmpty == (depth <= JSONSchema.maxInstanceDepth))
        #expect(errors.allSatisfy { $0.keyword == "maxDepth" && $0.instancePath.tokens.count == JSONSchema.maxInstanceDepth + 1 })
    }

    struct BadSchema: CustomTestStringConvertible, Sendable {
        var schema: String
        var path: String
        var message: String
        var testDescription: String { schema }
    }

    @Test(arguments: [
        BadSchema(schema: #"{"type": "strin"}"#, path: "/type", message: #"'type' names an unknown type "strin""#),
        BadSchema(schema: ##"{"properties": {"a": {"$ref": "#/$defs/missing"}}}"##, path: "/properties/a/$ref",
                  message: "cannot resolve reference '#/$defs/missing': nothing at that pointer"),
        BadSchema(schema: #"{"$ref": "other.json"}"#, path: "/$ref",
                  message: "cannot resolve reference 'other.json': no schema has the URI 'urn:other.json'"),
        BadSchema(schema: #"{"pattern": "(["}"#, path: "/pattern", message: "'([' is not a valid regular expression: missing ']' at position 2"),
        // Backreferences and lookaround need backtracking: refused by name, with the pointer.
        BadSchema(schema: #"{"properties": {"code": {"pattern": "^(a)\\1$"}}}"#, path: "/properties/code/pattern",
                  message: #"pattern '^(a)\1$' uses a backreference (\1), which Sluice does not support: patterns run on a linear-time engine"#),
        BadSchema(schema: #"{"items": {"pattern": "^(?!admin$)"}}"#, path: "/items/pattern",
                  message: "pattern '^(?!admin$)' uses a negative lookahead ((?!…)), which Sluice does not support: patterns run on a linear-time engine"),
        BadSchema(schema: #"{"patternProperties": {"(?<=x)y": true}}"#, path: "/patternProperties/(?<=x)y",
                  message: "pattern '(?<=x)y' uses a lookbehind ((?<=…)), which Sluice does not support: patterns run on a linear-time engine"),
        BadSchema(schema: ##"{"$ref": "#/$defs/a", "$defs": {"a": {"pattern": "x(?=y)"}}}"##, path: "/$defs/a/pattern",
                  message: "pattern 'x(?=y)' uses a lookahead ((?=…)), which Sluice does not support: patterns run on a linear-time engine"),
        BadSchema(schema: #"{"pattern": "(?:\\d{1000}){11}"}"#, path: "/pattern",
                  message: #"pattern '(?:\d{1000}){11}' is too large for the linear-time engine: over 10000 instructions"#),
        BadSchema(schema: #"{"minItems": -1}"#, path: "/minItems", message: "'minItems' must be a non-negative integer"),
        BadSchema(schema: #"{"items": [{"type": "string"}]}"#, path: "/items", message: "'items' must be a schema (use prefixItems for tuples)"),
        BadSchema(schema: #"{"allOf": [{"not": 3}]}"#, path: "/allOf/0/not", message: "a schema must be an object or a boolean, not integer"),
    ])
    func badSchemasSayWhatAndWhere(_ bad: BadSchema) throws {
        let value = try JSONParser.parse(bad.schema)
        #expect {
            _ = try JSONSchema(value)
        } throws: { error in
            guard let error = error as? SchemaError else { return false }
            return error.schemaPath.description == bad.path && error.message.hasPrefix(bad.message)
        }
    }
}
