import Testing
@testable import SluiceJSON

/// The linear-time engine behind JSON Schema `pattern` (ECMA-262 syntax) and CEL `matches()`
/// (RE2 syntax; CEL's own table is `CELRegexTests`).
@Suite("Linear regex engine")
struct LinearRegexTests {
    /// The patterns in `schemas/*.json`, the 2020-12 metaschemas and the schema tests, then
    /// ECMA-262 syntax that schemas commonly use.
    static let ecmaCases: [(String, String, Bool)] = [
        // schemas/plan.schema.json
        ("^[a-z][a-z0-9_]*$", "step_1", true), ("^[a-z][a-z0-9_]*$", "Step", false), ("^[a-z][a-z0-9_]*$", "1a", false),
        (#"^\$\{[\s\S]*\}$"#, "${a\nb}", true), (#"^\$\{[\s\S]*\}$"#, "${x", false), (#"^\$\{[\s\S]*\}$"#, "a${x}", false),
        (#"^[A-Za-z0-9_.-]+:\S+$"#, "openai:gpt-4o", true), (#"^[A-Za-z0-9_.-]+:\S+$"#, "openai: gpt", false),
        (#"^[0-9]+(\.[0-9]+)?[smhd]$"#, "1.5h", true), (#"^[0-9]+(\.[0-9]+)?[smhd]$"#, "10d", true),
        (#"^[0-9]+(\.[0-9]+)?[smhd]$"#, "1.h", false),
        // Metaschemas and SchemaErrorTests
        ("^[^#]*#?$", "urn:x#", true), ("^[^#]*#?$", "a#b", false),
        ("^[A-Za-z_][-A-Za-z0-9._]*$", "my-anchor.1", true), ("^[A-Za-z_][-A-Za-z0-9._]*$", "-x", false),
        ("^[a-z]+:", "https://x", true),
        // Search, not full match; anchors; $ does not match before a trailing newline.
        ("a+", "xaax", true), ("^abc$", "abc\n", false), ("^abc$", "abc", true), ("", "anything", true),
        // ASCII \d \w; Unicode \s; . stops at every line terminator.
        (#"\d"#, "٣", false), (#"^\D$"#, "٣", true), (#"\wcole"#, "école", false), (#"^\W$"#, "é", true),
        (#"^\s$"#, "\u{FEFF}", true), (#"^\s$"#, "\u{A0}", true), (#"^\s$"#, "\u{2029}", true), (#"^\S$"#, "\u{2003}", false),
        ("^.$", "\r", false), ("^.$", "\u{2028}", false), ("^.$", "😀", true), ("^[^]$", "\n", true), ("[]", "a", false),
        // Escapes.
        (#"^\t$"#, "\t", true), (#"^\cC$"#, "\u{3}", true), (#"^\cc$"#, "\u{3}", true), (#"^[\b]$"#, "\u{8}", true),
        (#"^\u0041\u{1F600}$"#, "A😀", true), (#"^\ud83d\udc32$"#, "🐲", true), (#"^\x41\0$"#, "A\u{0}", true),
        (#"a\.b\/c"#, "a.b/c", true), (#"a\.b"#, "axb", false), (#"^[\-+]?\d+$"#, "-12", true),
        // Unicode property escapes.
        (#"\p{Letter}cole"#, "école", true), (#"^\p{L}+$"#, "héllo", true), (#"^\p{Lu}"#, "Élan", true),
        (#"\P{L}"#, "abc", false), (#"^\p{digit}+$"#, "٣٤", true), (#"^[\p{L}\d ]+$"#, "Zoë 42", true),
        (#"^\p{gc=Nd}$"#, "7", true), (#"^\p{White_Space}$"#, "\u{3000}", true), (#"^[^\P{Ll}]$"#, "a", true),
        (#"^[\s\S]$"#, "\n", true), (#"^[^\S]$"#, "x", false),
        // Groups, alternation, counted repetition, lazy forms.
        ("gr(a|e)y", "grey", true), ("^(?:ab){2,3}$", "ababab", true), ("^(?:ab){2,3}$", "abababab", false),
        (#"^(?<year>\d{4})-\d{2}$"#, "2024-05", true), ("^a{2}$", "aaa", false), ("^a{2,}$", "aaaaa", true),
        ("x{1", "ax{1", true), ("a+?b", "aab", true), (#"\bcat\b"#, "a cat sat", true), (#"\bcat\b"#, "concatenate", false),
        ("^🐲*$", "🐲🐲", true), ("^🐲*$", "🐉", false), ("^á", "ábc", true),
        ("^[0-9]{2,}", "x12", false), ("[0-9]{2,}", "x12", true),
    ]

    @Test("ECMA-262 patterns", arguments: ecmaCases)
    func ecmaScript(_ pattern: String, _ text: String, _ expected: Bool) throws {
        #expect(try LinearRegex(pattern, syntax: .ecmaScript).matches(text) == expected)
    }

    /// Where RE2 and ECMA-262 read the same pattern differently.
    @Test("RE2 and ECMA-262 differ", arguments: [
        (#"^\s$"#, "\u{0B}", false, true), (#"^\s$"#, "\u{A0}", false, true), ("^.$", "\r", true, false),
        ("[]a]", "]", true, false), ("^[^]a]$", "b", true, false),
    ])
    func dialects(_ pattern: String, _ text: String, _ re2: Bool, _ ecmaScript: Bool) throws {
        #expect(try LinearRegex(pattern, syntax: .re2).matches(text) == re2)
        #expect(try LinearRegex(pattern, syntax: .ecmaScript).matches(text) == ecmaScript)
    }

    /// Exponential on a backtracking engine (`(.*a){16}$` took 46 s on 41 characters on ICU);
    /// here each is one pass over 10 KB. The time limit only catches a hang.
    @Test("hostile patterns finish on 10 KB", .timeLimit(.minutes(1)), arguments: [
        ("(.*a){16}$", String(repeating: "a", count: 10_000) + "!", false),
        ("(.*a){16}$", String(repeating: "a", count: 10_000), true),
        ("(.*a){16}$", String(repeating: "ab", count: 5_000), false),
        ("^(a+)+$", String(repeating: "a", count: 10_000) + "!", false),
        ("^(a+)+$", String(repeating: "a", count: 10_000), true),
        ("(a|aa)+$", String(repeating: "a", count: 10_000) + "!", false),
        ("(a|aa)+$", String(repeating: "a", count: 10_000), true),
        ("^(a|a)*(a|aa)*$", String(repeating: "a", count: 10_000) + "!", false),
        (#"^(\w+\s?)*$"#, String(repeating: "word ", count: 2_000) + "!", false),
        ("(x+x+)+y", String(repeating: "x", count: 10_000), false),
    ])
    func hostile(_ pattern: String, _ text: String, _ expected: Bool) throws {
        #expect(try LinearRegex(pattern, syntax: .ecmaScript).matches(text) == expected)
        #expect(try LinearRegex(pattern, syntax: .re2).matches(text) == expected)
    }

    struct Refusal: CustomTestStringConvertible, Sendable {
        var pattern: String
        var kind: LinearRegex.Error.Kind
        var message: String
        var position: Int
        var testDescription: String { pattern }
    }

    /// Backreferences and lookaround are named and placed, not reported as syntax errors.
    @Test("refused and invalid patterns", arguments: [
        Refusal(pattern: #"(a)\1"#, kind: .unsupported, message: #"a backreference (\1)"#, position: 3),
        Refusal(pattern: #"(a)(b)\12"#, kind: .unsupported, message: #"a backreference (\12)"#, position: 6),
        Refusal(pattern: #"(?<q>['"]).*\k<q>"#, kind: .unsupported, message: #"a backreference (\k<q>)"#, position: 12),
        Refusal(pattern: "a(?=b)", kind: .unsupported, message: "a lookahead ((?=…))", position: 1),
        Refusal(pattern: "^(?!admin$).+", kind: .unsupported, message: "a negative lookahead ((?!…))", position: 1),
        Refusal(pattern: "(?<=a)b", kind: .unsupported, message: "a lookbehind ((?<=…))", position: 0),
        Refusal(pattern: "x(?<!a)b", kind: .unsupported, message: "a negative lookbehind ((?<!…))", position: 1),
        Refusal(pattern: "([", kind: .syntax, message: "missing ']'", position: 2),
        Refusal(pattern: "a{5,2}", kind: .syntax, message: "bad repetition count", position: 6),
        Refusal(pattern: "a{1001}", kind: .syntax, message: "repetition count over 1000", position: 7),
        Refusal(pattern: #"\p{Greek}"#, kind: .syntax, message: "unknown Unicode property 'Greek'", position: 8),
        Refusal(pattern: #"\ud800"#, kind: .syntax, message: #"lone surrogate in \u escape"#, position: 6),
        Refusal(pattern: "(?:a{1000}){11}", kind: .tooLarge,
                message: "too large: over 10000 instructions once counted repetitions are expanded", position: 0),
    ])
    func refusals(_ refusal: Refusal) {
        #expect {
            _ = try LinearRegex(refusal.pattern, syntax: .ecmaScript)
        } throws: { error in
            guard let error = error as? LinearRegex.Error else { return false }
            return error.kind == refusal.kind && error.message == refusal.message && error.position == refusal.position
        }
    }

    /// Repeating something that compiles to nothing must not loop a billion times for nothing.
    @Test(.timeLimit(.minutes(1))) func repeatedEmptyGroupsCompileToNothing() throws {
        let regex = try LinearRegex("(?:(?:(?:(?:)(?:)){1000}){1000}){1000}", syntax: .ecmaScript)
        #expect(regex.instructionCount == 1)
        #expect(regex.matches(""))
    }
}
