import Foundation
import Testing
import SluicePlan

/// The schema compiled into the module must be the text of `schemas/plan.schema.json`:
/// editors read the file, the binary reads the embedded copy, and they must not drift.
@Suite struct PlanSchemaSyncTests {
    /// The repository root, found from this file's path (Tests/SluicePlanTests/<file>).
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent()

    static let schemaFile = repositoryRoot.appendingPathComponent("schemas/plan.schema.json")

    @Test func embeddedTextEqualsTheSchemaFile() throws {
        let file = try String(contentsOf: Self.schemaFile, encoding: .utf8)
        // Compare unicode scalars: String's == ignores differences such as NFC vs NFD.
        let same = Array(PlanSchema.text.unicodeScalars) == Array(file.unicodeScalars)
        #expect(same, "Sources/SluicePlan/Schema/PlanSchema+Source.swift is stale: run `make schema`")
    }

    @Test func embeddedTextIsJSONWithTheSchemaID() throws {
        let object = try JSONSerialization.jsonObject(with: Data(PlanSchema.text.utf8))
        let schema = try #require(object as? [String: Any])
        #expect(schema["$id"] as? String == PlanSchema.id)
        #expect(schema["$schema"] as? String == "https://json-schema.org/draft/2020-12/schema")
    }

    /// `stepCommonNames` exists only to list `stepCommon`'s property names (see its `$comment`);
    /// a field added to one but not the other would be rejected, or unchecked, in every step.
    @Test func stepCommonNamesListsEveryCommonField() throws {
        let object = try JSONSerialization.jsonObject(with: Data(PlanSchema.text.utf8))
        let defs = try #require((object as? [String: Any])?["$defs"] as? [String: Any])
        let common = try #require((defs["stepCommon"] as? [String: Any])?["properties"] as? [String: Any])
        let names = try #require((defs["stepCommonNames"] as? [String: Any])?["properties"] as? [String: Any])
        #expect(Set(common.keys) == Set(names.keys))
    }
}
