import Testing
@testable import SluicePlan

/// The words `list.relevant` ranks by: ASCII text takes a byte-level path, everything else
/// the character path, and both must cut the same words (CR LF, combining marks after ASCII
/// letters, ideographs next to ASCII, stop words, one-letter words).
@Suite("CEL relevance terms")
struct CELRelevanceTermsTests {
    @Test(arguments: [
        ("Nvidia ships NEW AI chips, 2025!", ["nvidia", "ships", "ai", "chips", "2025"]),
        ("line one\r\nline two\rthree\n", ["line", "one", "line", "two", "three"]),
        ("cafe\u{301}s and na\u{EF}ve x y", ["cafe\u{301}s", "na\u{EF}ve"]),
        ("“Quoted” — em-dash’s test", ["quoted", "em", "dash", "test"]),
        ("GPU英伟达chips", ["gpu", "英", "伟", "英伟", "达", "伟达", "chips"]),
        ("a\u{0308}b c\r\n\u{301}d", ["a\u{0308}b"]),
        ("ab\r\ncd", ["ab", "cd"]),
        ("The INTERNATIONALIZATION of it, x-ray 42", ["internationalization", "ray", "42"]),
        ("", []),
    ] as [(String, [String])])
    func termsOf(text: String, expected: [String]) {
        #expect(CELRelevance.terms(of: text) == expected)
    }
}
