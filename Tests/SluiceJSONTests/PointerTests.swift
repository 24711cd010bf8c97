import Testing
@testable import SluiceJSON

@Suite struct PointerTests {
    /// The example document of RFC 6901 section 5.
    static let rfcDocument: JSONValue = [
        "foo": ["bar", "baz"], "": 0, "a/b": 1, "c%d": 2, "e^f": 3, "g|h": 4, "i\\j": 5, "k\"l": 6, " ": 7, "m~n": 8,
    ]

    @Test(arguments: [
        ("", JSONValue?.some(rfcDocument)),
        ("/foo", JSONValue.array(["bar", "baz"])),
        ("/foo/0", "bar"),
        ("/", 0),
        ("/a~1b", 1),
        ("/c%d", 2),
        ("/e^f", 3),
        ("/g|h", 4),
        ("/i\\j", 5),
        ("/k\"l", 6),
        ("/ ", 7),
        ("/m~0n", 8),
        ("/foo/2", nil),
        ("/foo/-", nil),
        ("/foo/01", nil),
        ("/missing", nil),
        ("/foo/0/x", nil),
    ])
    func resolvesTheRFCExamples(_ text: String, _ expected: JSONValue?) throws {
        let pointer = try JSONPointer(parsing: text)
        #expect(Self.rfcDocument.value(at: pointer) == expected)
        #expect(pointer.description == text)
    }

    @Test func escapesTokensInDescription() {
        let pointer = JSONPointer.root.appending("a/b").appending("m~n").appending(index: 3)
        #expect(pointer.tokens == ["a/b", "m~n", "3"])
        #expect(pointer.description == "/a~1b/m~0n/3")
        #expect(JSONPointer.root.description == "")
        #expect(pointer.parent == JSONPointer(tokens: ["a/b", "m~n"]))
        #expect(JSONPointer.root.parent == nil)
        #expect(JSONPointer(tokens: ["a"]).isPrefix(of: pointer) == false)
        #expect(JSONPointer(tokens: ["a/b"]).isPrefix(of: pointer))
    }

    @Test(arguments: ["a", "/~", "/a~2", "/~x/b"])
    func rejectsMalformedPointers(_ text: String) {
        #expect(throws: JSONPointerError.self) { try JSONPointer(parsing: text) }
    }

    @Test func sortsParentsFirstAndIndicesNumerically() throws {
        let pointers = try ["/b", "/a/10", "", "/a/2", "/a", "/a/x"].map { try JSONPointer(parsing: $0) }
        #expect(pointers.sorted().map(\.description) == ["", "/a", "/a/2", "/a/10", "/a/x", "/b"])
    }
}
