import Foundation
import SluiceEngine
import SluiceJSON
@testable import SluicePlan
import SluiceRunLog
import Testing

/// docs/plan-reference.md cannot drift from the schema and the code: every table lists exactly
/// the fields the schema gives that object, every step kind has its section, and every CEL
/// function, template root and event type is documented.
@Suite struct PlanReferenceTests {
    static let reference = Fixtures.repository.appendingPathComponent("docs/plan-reference.md")
    static let schemaFile = Fixtures.repository.appendingPathComponent("schemas/plan.schema.json")

    /// The reference's tables by the heading above them: each table's first-column names.
    static func tables() throws -> [String: [String]] {
        let text = try String(contentsOf: reference, encoding: .utf8)
        var tables: [String: [String]] = [:]
        var heading = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("#") {
                heading = line.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces)
            } else if line.hasPrefix("| `") {
                let cell = line.dropFirst(3).prefix { $0 != "`" }
                tables[heading, default: []].append(String(cell))
            }
        }
        return tables
    }

    static func schema() throws -> JSONValue {
        try JSONParser.parse([UInt8](try Data(contentsOf: schemaFile)))
    }

    static func properties(_ object: JSONValue?) -> [String] {
        object?["properties"]?.objectValue.map { Array($0.keys) } ?? []
    }

    /// Each reference table and the schema object it documents.
    static let documentedObjects: [(heading: String, pointer: String)] = [
        ("Top level", ""),
        ("A model (`models` entries)", "/$defs/modelSpec"),
        ("`budget`", "/$defs/budget"),
        ("`billing`", "/$defs/billing"),
        ("`output`", "/$defs/output"),
        ("`retry` (on any step)", "/$defs/retry"),
        ("A gate dimension (`dimensions` items)", "/$defs/gateDimension"),
        ("Steps", "/$defs/stepCommon"),
    ]

    @Test(arguments: documentedObjects)
    func aTableListsExactlyTheSchemasFields(heading: String, pointer: String) throws {
        let schema = try Self.schema()
        let object = try #require(schema.value(at: try JSONPointer(parsing: pointer)), "\(pointer)")
        let documented = try Self.tables()[heading] ?? []
        #expect(documented == Self.properties(object), "docs/plan-reference.md '\(heading)' against \(pointer)")
    }

    @Test func everyStepKindHasASectionListingExactlyItsFields() throws {
        let schema = try Self.schema()
        let kinds = try #require(schema["$defs"]?["stepKind"]?["enum"]?.arrayValue).compactMap(\.stringValue)
        #expect(kinds == Step.kindNames, "the schema's kinds are the model's")
        let tables = try Self.tables()
        for kind in kinds {
            let fields = Self.properties(schema["$defs"]?["\(kind)Step"])
            #expect(!fields.isEmpty, "$defs/\(kind)Step")
            #expect(tables["`\(kind)`"] == fields, "docs/plan-reference.md section `\(kind)`")
        }
        let documentedKinds = tables.keys.filter { $0.hasPrefix("`") && $0.hasSuffix("`") && !$0.contains(" ") }
            .map { String($0.dropFirst().dropLast()) }
            .filter { !["budget", "billing", "output"].contains($0) }
        #expect(Set(documentedKinds) == Set(kinds), "no section for a kind that does not exist")
        #expect(Self.properties(schema["$defs"]?["stepCommon"]) == Self.properties(schema["$defs"]?["stepCommonNames"]))
    }

    /// The "written as" column of each step table says what the kind's declaration says:
    /// a literal, a template, a bare expression, a value, or a literal or "${…}".
    @Test func eachStepFieldSaysHowItIsWritten() throws {
        let text = try String(contentsOf: Self.reference, encoding: .utf8)
        var written: [String: [String: String]] = [:]
        var heading = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("#") {
                heading = line.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces)
            } else if line.hasPrefix("| `") {
                let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
                guard cells.count > 3 else { continue }
                written[heading, default: [:]][cells[1].trimmingCharacters(in: ["`"])] = cells[3]
            }
        }
        let tables = [("Steps", Step.commonSettings)] + StepKinds.all.map { ("`\($0.name)`", $0.settings) }
        for (heading, settings) in tables {
            for setting in settings {
                #expect(
                    written[heading]?[setting.name] == Self.words(setting.form),
                    "docs/plan-reference.md '\(heading)' \(setting.name): the 'written as' column")
            }
        }
    }

    static func words(_ form: StepSetting.Form) -> String {
        switch form {
        case .literal: "literal"
        case .template: "template"
        case .expression: "expression (bare)"
        case .numberOrExpression: "literal or `\"${…}\"`"
        case .value: "value"
        case .body: "steps"
        }
    }

    @Test func everyCELFunctionAndMacroIsDocumented() throws {
        let text = try String(contentsOf: Self.reference, encoding: .utf8)
        for name in CELFunctions.globalNames.union(CELFunctions.methodNames).sorted() {
            #expect(text.contains("\(name)("), "CEL function \(name) is not in docs/plan-reference.md")
        }
        for macro in ["has", "all", "exists", "exists_one", "filter", "map"] {
            #expect(text.contains(".\(macro)(") || text.contains("`\(macro)("), "macro \(macro)")
        }
        let variables = try Self.tables()["Variables"] ?? []
        #expect(variables == ["inputs", "steps", "item", "index", "loop"])
    }

    @Test func everyEventTypeIsDocumented() throws {
        let documented = try Self.tables()["Run events"] ?? []
        #expect(documented == EventType.all.map(\.rawValue))
    }
}
