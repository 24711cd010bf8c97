import SluiceJSON
import Testing
@testable import SluicePlan

/// Static checks: what a plan's validator reports before anything runs.
@Suite("CEL checker")
struct CELCheckerTests {
    static let inputsSchema: JSONValue = [
        "type": "object",
        "properties": [
            "task": ["type": "string"], "days": ["type": "integer"], "quality_threshold": ["type": "number"],
            "auto_confirm": ["type": "boolean"], "tags": ["type": "array", "items": ["type": "string"]],
            "extra": [:],
        ],
        "additionalProperties": false,
    ]

    static let outlineSchema: JSONValue = [
        "type": "object",
        "properties": ["sections": ["type": "array", "items": ["type": "object", "properties": ["title": ["type": "string"]]]]],
    ]

    static let environment = CELTypeEnvironment(variables: [
        "inputs": CELType(jsonSchema: inputsSchema),
        "steps": .object([
            "outline": .object(["output": CELType(jsonSchema: outlineSchema)], closed: true),
            "gate": .object(["output": .object(["score": .double, "passed": .bool, "scores": .map(key: .string, value: .double)], closed: true)], closed: true),
            "report": .object(["output": .string], closed: true),
            "search": .object(["output": .dyn], closed: true),
        ], closed: true),
        "loop": .object(["iteration": .int, "best": .dyn, "feedback": .dyn], closed: true),
        "item": .dyn,
        "index": .int,
    ])

    @Test("well-typed plan expressions pass", arguments: [
        "steps.gate.output.score >= inputs.quality_threshold",
        "size(steps.outline.output.sections) > 0",
        "!inputs.auto_confirm",
        "loop.iteration < 3 || steps.gate.output.passed",
        "steps.outline.output.sections.map(s, s.title)",
        "steps.outline.output.sections.all(s, size(s.title) > 0)",
        "steps.gate.output.scores.exists(k, steps.gate.output.scores[k] < 5.0)",
        "inputs.days * 24 > 100 ? 'long' : 'short'",
        "inputs.task + ': ' + steps.report.output",
        "steps.search.output.results.size() > 0",
        "item.title + string(index)",
        "inputs.extra.anything.goes",
        "has(steps.outline.output.sections)",
        "'x' in inputs.tags && inputs.tags.size() < 10",
        "inputs.days == 7 && inputs.quality_threshold != 7",
        "loop.best == null ? 0.0 : loop.best.score",
        "dyn(inputs.task) + 1",
        "inputs.task.matches('^[a-z]+$') && inputs.task.trim().lowerAscii().startsWith('a')",
        "type(inputs.days) == int",
        "steps['outline'].output.sections[0].title",
    ])
    func wellTyped(_ source: String) throws {
        let problems = try CELExpression(parsing: source).check(Self.environment)
        #expect(problems.isEmpty, "\(problems)")
    }

    @Test("type errors knowable statically", arguments: [
        ("inputs.task + 1", "no matching overload for '+' applied to (string, int)", 12),
        ("(inputs.task) + 1", "no matching overload for '+' applied to (string, int)", 14),
        ("'🇫🇷' + 1", "no matching overload for '+' applied to (string, int)", 4),
        ("nope > 1", "undeclared reference to 'nope'", 0),
        ("size(steps.outlin.output) > 0", "no such field 'outlin' (known fields: gate, outline, report, search) — did you mean 'outline'?", 11),
        ("inputs.tasks", "no such field 'tasks' (known fields: auto_confirm, days, extra, quality_threshold, tags, task) — did you mean 'task'?", 7),
        ("inputs.days.value", "type 'int' does not support field selection (field 'value')", 12),
        ("size(inputs.days)", "no matching overload for 'size' applied to (int)", 0),
        ("inputs.auto_confirm && inputs.days", "no matching overload for '&&': operand is int, not bool", 23),
        ("steps.outline.output.sections.all(s, s.title)", "the predicate of all() must be a bool, not string", 37),
        ("frobnicate(1)", "undeclared function 'frobnicate'", 0),
        ("inputs.task.startsWith(1)", "no matching overload for 'startsWith' applied to (string, int)", 0),
        ("inputs.days == 'seven'", "no matching overload for '==' applied to (int, string)", 12),
        ("inputs.task < 1", "no matching overload for '<' applied to (string, int)", 12),
        ("inputs.days ? 1 : 2", "the condition of '? :' must be a bool, not int", 0),
        ("inputs.quality_threshold % 2.0", "no matching overload for '%' applied to (double, double)", 25),
        ("-inputs.task", "no matching overload for '-' applied to (string)", 0),
        ("inputs.days.map(x, x)", "map() needs a list or a map, not int", 0),
        ("{1.5: 'x'}", "unsupported map key type double", 1),
        ("inputs.tags[inputs.task]", "no matching overload for '_[_]' applied to (list(string), string)", 0),
        ("steps.report.output.contains(inputs.days)", "no matching overload for 'contains' applied to (string, int)", 0),
        ("int(inputs.tags)", "no matching overload for 'int' applied to (list(string))", 0),
    ])
    func typeErrors(_ source: String, _ message: String, _ offset: Int) throws {
        let problems = try CELExpression(parsing: source).check(Self.environment)
        #expect(problems.count == 1, "\(problems)")
        #expect(problems.first?.message == message)
        #expect(problems.first?.offset == offset)
    }

    @Test func everyProblemIsReportedInSourceOrder() throws {
        let problems = try CELExpression(parsing: "a + inputs.task * 2 > b").check(Self.environment)
        #expect(problems.map(\.message) == [
            "undeclared reference to 'a'",
            "no matching overload for '*' applied to (string, int)",
            "undeclared reference to 'b'",
        ])
        #expect(problems.map(\.offset) == [0, 16, 22])
    }

    @Test func macroVariablesAreScoped() throws {
        let problems = try CELExpression(parsing: "[1, 2].all(x, x > 0) && x > 0").check(Self.environment)
        #expect(problems.map(\.message) == ["undeclared reference to 'x'"])
    }

    static let schemaTypes: [(JSONValue, CELType)] = [
        (["type": "string"], .string),
        (["type": "integer"], .int),
        (["type": "number"], .double),
        (["type": "boolean"], .bool),
        (["type": "null"], .null),
        (["type": ["string", "null"]], .string),
        (["type": ["string", "integer"]], .dyn),
        (["type": "array", "items": ["type": "integer"]], .list(.int)),
        (["type": "array"], .list(.dyn)),
        (["type": "object", "additionalProperties": ["type": "number"]], .map(key: .string, value: .double)),
        (["type": "object"], .object([:], closed: false)),
        (["properties": ["a": ["type": "string"]], "additionalProperties": false], .object(["a": .string], closed: true)),
        (["$ref": "#/$defs/x"], .dyn),
        (true, .dyn),
    ]

    @Test("types from JSON Schema", arguments: schemaTypes)
    func typesFromSchema(_ schema: JSONValue, _ type: CELType) {
        #expect(CELType(jsonSchema: schema) == type)
    }

    @Test("CEL type syntax", arguments: [
        ("int", CELType.int), ("map(string, dyn)", .map(key: .string, value: .dyn)), ("list(list(int))", .list(.list(.int))),
        ("null_type", .null), ("type(int)", .type),
    ])
    func typeSyntax(_ text: String, _ type: CELType) {
        #expect(CELType(parsing: text) == type)
    }

    @Test func resultTypes() throws {
        #expect(try CELExpression(parsing: "steps.outline.output.sections.map(s, s.title)").resultType(Self.environment) == .list(.string))
        #expect(try CELExpression(parsing: "inputs.days > 1").resultType(Self.environment) == .bool)
        #expect(try CELExpression(parsing: "item.anything").resultType(Self.environment) == .dyn)
    }
}
