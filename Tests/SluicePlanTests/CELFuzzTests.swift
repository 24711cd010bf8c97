import SluiceTesting
import Testing
@testable import SluicePlan

/// Random and mutated expressions must never crash or hang the parser, the checker or the
/// evaluator: each input either fails with a CELError or produces a value. Seeded, so a failure
/// reproduces; bounded by iteration counts and a small evaluation budget.
@Suite("CEL fuzz")
struct CELFuzzTests {

    static let fragments = [
        "1", "0u", "-", "2.5", "1e308", "9223372036854775807", "'s'", "\"\"\"t\"\"\"", "b'\\xff'", "r'\\d'", "true", "null",
        "x", "y", "m", "l", "inputs", "steps", ".", "a", "b", "size", "(", ")", "[", "]", "{", "}", ",", ":", "?",
        "+", "*", "/", "%", "==", "!=", "<", ">=", "&&", "||", "!", "in", "has", "all", "exists", "exists_one", "map",
        "filter", "int", "uint", "double", "string", "bytes", "type", "dyn", "matches", "contains", "'\\u00e9'", " ",
        "`k-k`", "loop", "if", "//c\n", "\\", "'", "\"", "0x", "🇫🇷", "\u{0}",
    ]

    static let bindings: [String: CELValue] = [
        "x": .int(3), "y": .double(-0.5), "m": .map(["a": .list([.int(1), .string("b")]), "k-k": .null]),
        "l": .list([.int(1), .int(2), .string("three")]), "inputs": .map(["a": .bool(true)]),
    ]

    static let environment = CELTypeEnvironment(variables: [
        "x": .int, "y": .double, "m": .map(key: .string, value: .dyn), "l": .list(.dyn), "inputs": .object(["a": .bool], closed: true),
    ])

    /// Parses, checks and evaluates; only a crash or hang could fail this.
    static func exercise(_ source: String) {
        let expression: CELExpression
        do {
            expression = try CELExpression(parsing: source, limits: .init(maxCost: 50_000))
        } catch {
            #expect(!error.message.isEmpty)
            return
        }
        _ = expression.check(environment)
        _ = expression.references
        do {
            let value = try expression.evaluate(bindings)
            _ = value.json
        } catch {
            #expect(!error.message.isEmpty)
        }
    }

    @Test func randomTokenSoup() {
        var random = SeededRandom(seed: 0x5EED_CE11)
        for _ in 0..<4000 {
            let count = Int.random(in: 1...24, using: &random)
            let source = (0..<count).map { _ in Self.fragments.randomElement(using: &random)! }.joined(separator: Bool.random(using: &random) ? " " : "")
            Self.exercise(source)
        }
    }

    @Test func mutatedConformanceExpressions() throws {
        var random = SeededRandom(seed: 0xC0FF_EE00)
        var sources: [String] = []
        for file in try CELFixtures.fileNames() {
            sources += try CELFixtures.cases(inFile: file).map(\.expression)
        }
        let alphabet = Array("()[]{}.,:?!+-*/%<>=&|'\"\\`abxyu0123456789 \n🐱")
        for _ in 0..<4000 {
            var characters = Array(sources.randomElement(using: &random)!)
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let position = characters.isEmpty ? 0 : Int.random(in: 0..<characters.count, using: &random)
                switch Int.random(in: 0..<4, using: &random) {
                case 0: characters.insert(alphabet.randomElement(using: &random)!, at: position)
                case 1: if !characters.isEmpty { characters.remove(at: position) }
                case 2: if !characters.isEmpty { characters[position] = alphabet.randomElement(using: &random)! }
                default:
                    // Splice in a slice of another expression.
                    let other = Array(sources.randomElement(using: &random)!)
                    if !other.isEmpty {
                        let start = Int.random(in: 0..<other.count, using: &random)
                        characters.insert(contentsOf: other[start..<min(other.count, start + 12)], at: position)
                    }
                }
            }
            Self.exercise(String(characters))
        }
    }

    @Test func substringSearchAgreesWithNaiveSearch() {
        var random = SeededRandom(seed: 0x0005_EA2C)
        for _ in 0..<3000 {
            let haystack = (0..<Int.random(in: 0...30, using: &random)).map { _ in UInt8.random(in: 97...99, using: &random) }
            let needle = (0..<Int.random(in: 0...5, using: &random)).map { _ in UInt8.random(in: 97...99, using: &random) }
            let from = Int.random(in: 0...haystack.count, using: &random)
            let naive = (from...haystack.count).first { start in
                start + needle.count <= haystack.count && haystack[start..<(start + needle.count)].elementsEqual(needle)
            }
            #expect(CELSubstringSearch(needle).firstIndex(in: haystack, from: from) == naive, "\(needle) in \(haystack) from \(from)")
        }
    }

    @Test func randomRegularExpressions() {
        var random = SeededRandom(seed: 0x00AB_CDEF)
        let pieces = ["a", "b", ".", "*", "+", "?", "|", "(", ")", "(?:", "(?i)", "[", "]", "^", "-", "$", "{2}", "{1,3}", "\\d", "\\b", "\\", "[^a]", "😀"]
        for _ in 0..<3000 {
            let pattern = (0..<Int.random(in: 0...12, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined()
            let text = String((0..<Int.random(in: 0...40, using: &random)).map { _ in "ab😀\n".randomElement(using: &random)! })
            do {
                _ = try CELRegex(pattern).matches(text)
            } catch {
                #expect(error.message.hasPrefix("invalid regular expression") || error.message.hasPrefix("regular expression"))
            }
        }
    }

    @Test("hostile shapes fail cleanly", arguments: [
        String(repeating: "(", count: 100_000),
        String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000),
        String(repeating: "!", count: 100_000) + "true",
        String(repeating: "-", count: 100_000) + "1",
        "x" + String(repeating: ".a", count: 50_000),
        "x" + String(repeating: "[0]", count: 50_000),
        Array(repeating: "1", count: 50_000).joined(separator: " + "),
        String(repeating: "f(", count: 50_000),
        String(repeating: "{1: ", count: 50_000),
        String(repeating: "true ? ", count: 50_000) + "1",
        "'" + String(repeating: "\\", count: 99_999),
        "l" + String(repeating: ".map(v, l)", count: 150),
        "[" + Array(repeating: "l", count: 5_000).joined(separator: ",") + "]" + String(repeating: ".map(v, [v, v])", count: 30),
    ])
    func hostileShapes(_ source: String) {
        Self.exercise(source)
    }
}
