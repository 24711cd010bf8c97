import Testing
@testable import SluiceJSON

@Suite struct DocumentLocationTests {
    static let text = """
        {
          "name": "café",
          "steps": [
            {"id": "a", "n": -1.5},
            [true, null, "日本"],
            {}
          ],
          "done": false
        }
        """

    @Test(arguments: [
        ("", 1, 1),
        ("/name", 2, 11),
        ("/steps", 3, 12),
        ("/steps/0", 4, 5),
        ("/steps/0/id", 4, 12),
        ("/steps/0/n", 4, 22),
        ("/steps/1", 5, 5),
        ("/steps/1/0", 5, 6),
        ("/steps/1/1", 5, 12),
        ("/steps/1/2", 5, 18),
        ("/steps/2", 6, 5),
        ("/done", 8, 11),
    ])
    func locatesEveryNode(_ pointer: String, _ line: Int, _ column: Int) throws {
        let document = try JSONParser.parseDocument(Array(Self.text.utf8))
        let location = document.locations[try JSONPointer(parsing: pointer)]
        #expect(location?.line == line)
        #expect(location?.column == column)
    }

    @Test func recordsEveryNodeAndEveryKey() throws {
        let document = try JSONParser.parseDocument(Array(Self.text.utf8))
        #expect(document.locations.count == 12)
        #expect(document.keyLocations.count == 5)
        #expect(document.keyLocation(of: try JSONPointer(parsing: "/name")).map { "\($0)" } == "2:3")
        #expect(document.keyLocation(of: try JSONPointer(parsing: "/steps/0/n")).map { "\($0)" } == "4:17")
        #expect(document.keyLocation(of: try JSONPointer(parsing: "/steps/1")) == nil)
        #expect(document.value == (try JSONParser.parse(Self.text)))
    }

    @Test func missingNodesFallBackToTheNearestAncestor() throws {
        let document = try JSONParser.parseDocument(Array(Self.text.utf8))
        #expect(document.location(of: try JSONPointer(parsing: "/steps/0/missing/deeper"))?.description == "4:5")
        #expect(document.location(of: try JSONPointer(parsing: "/nothing"))?.description == "1:1")
    }

    @Test func offsetsAreBytesAndColumnsAreCharacters() throws {
        let document = try JSONParser.parseDocument(Array("[\"👍🏽é\", 1]".utf8))
        let location = document.locations[JSONPointer(tokens: ["1"])]
        #expect(location == SourceLocation(line: 1, column: 8, offset: 15))
    }

    @Test func locatesScalarRootsAndTopLevelNumbers() throws {
        let document = try JSONParser.parseDocument(Array("\n  42 ".utf8))
        #expect(document.value == 42)
        #expect(document.locations[.root]?.description == "2:3")
    }
}
