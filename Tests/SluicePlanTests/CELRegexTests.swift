import Testing
@testable import SluicePlan

/// `matches()` uses RE2 syntax with a linear-time matcher (no backtracking).
@Suite("CEL regular expressions")
struct CELRegexTests {
    @Test("RE2 syntax", arguments: [
        ("ubb", "hubba", true), ("^ubb", "hubba", false), ("a$", "banana", true), ("^$", "", true),
        ("gr(a|e)y", "grey", true), ("ba(na)*$", "banana", true), ("^ba(na){2}$", "banana", true), ("^ba(na){3}$", "banana", false),
        ("^a{2,3}$", "aaa", true), ("^a{2,3}$", "aaaa", false), ("^a{2,}$", "aaaaa", true), ("x{1", "ax{1", true),
        ("\\d+", "abc123", true), ("^\\w+$", "snake_case9", true), ("^\\w+$", "kebab-case", false), ("\\s", "a b", true),
        ("^[a-c]+$", "abcabc", true), ("^[^a-c]+$", "xyz", true), ("^[^a-c]+$", "xaz", false), ("[[:upper:]]", "abC", true),
        ("(?i)hello", "HeLLo world", true), ("(?i:h)ello", "Hello", true), ("(?i:h)ello", "HELLO", false),
        ("a.c", "a\nc", false), ("(?s)a.c", "a\nc", true), ("(?m)^b$", "a\nb\nc", true), ("^b$", "a\nb\nc", false),
        ("\\bcat\\b", "a cat sat", true), ("\\bcat\\b", "concatenate", false), ("a\\.b", "a.b", true), ("a\\.b", "axb", false),
        ("(a|😀){2}", "🐱😀😀", true), ("a+ñ+a+", "mañana", true), ("\\x41\\x{263a}", "A☺", true), ("[\\d.]+", "v1.2", true),
        ("(?P<year>\\d{4})-\\d{2}", "on 2024-05", true), ("a*?b", "aab", true), ("", "anything", true),
    ])
    func syntax(_ pattern: String, _ text: String, _ expected: Bool) throws {
        #expect(try CELRegex(pattern).matches(text) == expected)
    }

    @Test("bad patterns are errors", arguments: ["(a", "a)", "*a", "a**", "[a", "a{5,2}", "\\pL", "a{1001}", "(?z)a", "\\"])
    func badPatterns(_ pattern: String) {
        #expect(throws: CELError.self) { try CELRegex(pattern) }
    }

    @Test func pathologicalPatternsRunInLinearTime() throws {
        // Exponential for a backtracking engine; a few thousand steps here.
        let text = String(repeating: "a", count: 5_000) + "!"
        #expect(try CELRegex("(a+)+$").matches(text) == false)
        #expect(try CELRegex("^(a|a)*(a|aa)*$").matches(text) == false)
        #expect(try CELRegex("(x+x+)+y").matches(String(repeating: "x", count: 2_000)) == false)
    }

    @Test func constantPatternsAreCheckedStatically() throws {
        let problems = try CELExpression(parsing: "'abc'.matches('(a')").check(CELTypeEnvironment())
        #expect(problems.count == 1)
        #expect(problems.first?.message.hasPrefix("invalid regular expression: missing ')'") == true)
        #expect(problems.first?.offset == 14)
    }
}
