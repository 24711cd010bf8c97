import Foundation
import SluiceJSON
import SluicePlan
import Testing

/// Each broken plan must produce exactly the diagnostics in `Fixtures/broken/expected.json`:
/// the message, the line:column and the JSON Pointer. Re-record with `SLUICE_RECORD=1`,
/// then read the diff: every position in it was checked by hand when it was first recorded.
@Suite struct BrokenPlanTests {
    static let expectedURL = Fixtures.broken.appendingPathComponent("expected.json")

    static let expected: [String: [String]] = {
        guard let data = FileManager.default.contents(atPath: expectedURL.path),
            let value = try? JSONParser.parse([UInt8](data)), let object = value.objectValue
        else { return [:] }
        var result: [String: [String]] = [:]
        for (name, lines) in object {
            result[name] = (lines.arrayValue ?? []).compactMap(\.stringValue)
        }
        return result
    }()

    static let names = Fixtures.jsonFiles(in: Fixtures.broken).map { ($0 as NSString).lastPathComponent }

    /// The diagnostics of one fixture, as "LINE:COL: error: MESSAGE (at POINTER)" without the file name.
    static func diagnostics(of name: String) -> [String]? {
        let path = Fixtures.broken.appendingPathComponent(name).path
        // The valid fixtures hold plans the broken ones call (typed_callee).
        let loader = PlanLoader(catalog: PlanCatalog(directories: [Fixtures.broken.path, Fixtures.valid.path]))
        do {
            _ = try loader.load(path: path)
            return nil
        } catch {
            // Without the fixture folder's absolute path, which differs between checkouts.
            return error.diagnostics.map {
                String($0.description.dropFirst(path.count + 1))
                    .replacingOccurrences(of: Fixtures.broken.path, with: "<broken>")
                    .replacingOccurrences(of: Fixtures.valid.path, with: "<valid>")
            }
        }
    }

    @Test func thereAreAtLeastThirtyBrokenPlans() {
        #expect(Self.names.count >= 30)
    }

    @Test(arguments: names)
    func brokenPlanReportsExactDiagnostics(name: String) throws {
        let found = try #require(Self.diagnostics(of: name), "\(name) loaded, but it is broken")
        #expect(!found.isEmpty)
        if Fixtures.recording { return }
        let expected = try #require(Self.expected[name], "no expectation recorded for \(name)")
        #expect(found == expected)
    }

    @Test func recordExpectations() throws {
        guard Fixtures.recording else { return }
        var object = JSONObject()
        for name in Self.names {
            object[name] = .array((Self.diagnostics(of: name) ?? []).map(JSONValue.string))
        }
        try Data(JSONValue.object(object).serialized(pretty: true).utf8 + [0x0A]).write(to: Self.expectedURL)
    }
}
