/// Parses RE2 syntax into a ``CELRegexNode`` tree (see ``CELRegex`` for what is supported).
struct CELRegexParser {
    private let pattern: [Unicode.Scalar]
    private var position = 0
    private var depth = 0

    private struct Flags {
        var caseInsensitive = false
        var multiline = false
        var dotMatchesNewline = false
    }

    /// Largest count in `{n,m}`, as in RE2.
    static let maxRepeat = 1_000

    init(_ pattern: [Unicode.Scalar]) {
        self.pattern = pattern
    }

    mutating func parse() throws(CELError) -> CELRegexNode {
        var flags = Flags()
        let node = try parseAlternation(&flags)
        guard position == pattern.count else { throw error("unmatched ')'") }
        return node
    }

    private func error(_ message: String) -> CELError {
        CELError("invalid regular expression: \(message) at position \(position)")
    }

    private func peek(_ ahead: Int = 0) -> Unicode.Scalar? {
        position + ahead < pattern.count ? pattern[position + ahead] : nil
    }

    private mutating func parseAlternation(_ flags: inout Flags) throws(CELError) -> CELRegexNode {
        depth += 1
        defer { depth -= 1 }
        guard depth <= 100 else { throw error("groups nested too deeply") }
        var branches = [try parseConcatenation(&flags)]
        while peek() == "|" {
            position += 1
            branches.append(try parseConcatenation(&flags))
        }
        return branches.count == 1 ? branches[0] : .alternate(branches)
    }

    private mutating func parseConcatenation(_ flags: inout Flags) throws(CELError) -> CELRegexNode {
        var parts: [CELRegexNode] = []
        while let c = peek(), c != "|", c != ")" {
            var atom = try parseAtom(&flags)
            atom = try parseQuantifiers(atom)
            parts.append(atom)
        }
        return parts.isEmpty ? .empty : (parts.count == 1 ? parts[0] : .concat(parts))
    }

    private mutating func parseQuantifiers(_ atom: CELRegexNode) throws(CELError) -> CELRegexNode {
        var node = atom
        var quantified = false
        while let c = peek() {
            var bounds: (Int, Int?)
            switch c {
            case "*": bounds = (0, nil); position += 1
            case "+": bounds = (1, nil); position += 1
            case "?": bounds = (0, 1); position += 1
            case "{":
                guard let counted = try parseCount() else { return node }
                bounds = counted
            default: return node
            }
            guard !quantified else { throw error("repeated quantifier") }
            if case .empty = node { throw error("missing argument to repetition operator") }
            quantified = true
            if peek() == "?" { position += 1 }  // lazy: the same set of matches
            node = .repeat(node, min: bounds.0, max: bounds.1)
        }
        return node
    }

    /// `{n}`, `{n,}`, `{n,m}`; nil (and nothing consumed) when the brace is a literal.
    private mutating func parseCount() throws(CELError) -> (Int, Int?)? {
        let start = position
        position += 1
        func number() -> Int? {
            var digits = ""
            while let d = peek(), d.isDigit, digits.count < 6 { digits.unicodeScalars.append(d); position += 1 }
            return Int(digits)
        }
        guard let low = number() else { position = start; return nil }
        var high: Int? = low
        if peek() == "," {
            position += 1
            high = number()
        }
        guard peek() == "}" else { position = start; return nil }
        position += 1
        guard low <= Self.maxRepeat, (high ?? 0) <= Self.maxRepeat, high.map({ $0 >= low }) ?? true else {
            throw error("bad repetition count")
        }
        return (low, high)
    }

    private mutating func parseAtom(_ flags: inout Flags) throws(CELError) -> CELRegexNode {
        guard let c = peek() else { throw error("unexpected end") }
        position += 1
        switch c {
        case ".": return .any(flags.dotMatchesNewline)
        case "^": return flags.multiline ? .lineStart : .textStart
        case "$": return flags.multiline ? .lineEnd : .textEnd
        case "[": return .set(try parseClass(flags))
        case "\\": return try parseEscape(flags, inClass: false).node
        case "*", "+", "?": throw error("missing argument to repetition operator")
        case "(":
            var inner = flags
            if peek() == "?" {
                position += 1
                if peek() == "P" || peek() == "<" {
                    // Named group: (?P<name>…) or (?<name>…).
                    while let d = peek(), d != ">" { position += 1 }
                    guard peek() == ">" else { throw error("unterminated group name") }
                    position += 1
                } else {
                    var on = true
                    while let d = peek(), d != ":" && d != ")" {
                        switch d {
                        case "i": inner.caseInsensitive = on
                        case "m": inner.multiline = on
                        case "s": inner.dotMatchesNewline = on
                        case "U": break
                        case "-": on = false
                        default: throw error("unknown flag '\(d)'")
                        }
                        position += 1
                    }
                    if peek() == ")" {
                        // (?i) sets the flags for the rest of the enclosing group.
                        position += 1
                        flags = inner
                        return .empty
                    }
                    guard peek() == ":" else { throw error("bad group") }
                    position += 1
                }
            }
            let node = try parseAlternation(&inner)
            guard peek() == ")" else { throw error("missing ')'") }
            position += 1
            return node
        default:
            return .scalar(c, flags.caseInsensitive)
        }
    }

    /// An escape after the backslash: a scalar or a class.
    private mutating func parseEscape(_ flags: Flags, inClass: Bool) throws(CELError) -> (node: CELRegexNode, set: CELRegex.ScalarSet?) {
        guard let c = peek() else { throw error("trailing backslash") }
        position += 1
        func literal(_ s: Unicode.Scalar) -> (CELRegexNode, CELRegex.ScalarSet?) { (.scalar(s, flags.caseInsensitive), nil) }
        func set(_ ranges: [ClosedRange<UInt32>], negated: Bool = false) -> (CELRegexNode, CELRegex.ScalarSet?) {
            let s = CELRegex.ScalarSet(ranges: ranges, negated: negated, caseInsensitive: flags.caseInsensitive)
            return (.set(s), s)
        }
        switch c {
        case "d": return set(Self.digit)
        case "D": return set(Self.digit, negated: true)
        case "w": return set(Self.word)
        case "W": return set(Self.word, negated: true)
        case "s": return set(Self.space)
        case "S": return set(Self.space, negated: true)
        case "n": return literal("\n")
        case "t": return literal("\t")
        case "r": return literal("\r")
        case "f": return literal("\u{0C}")
        case "v": return literal("\u{0B}")
        case "a": return literal("\u{07}")
        case "x":
            var digits = ""
            if peek() == "{" {
                position += 1
                while let d = peek(), d != "}" { digits.unicodeScalars.append(d); position += 1 }
                guard peek() == "}" else { throw error("unterminated \\x{…}") }
                position += 1
            } else {
                for _ in 0..<2 {
                    guard let d = peek() else { break }
                    digits.unicodeScalars.append(d)
                    position += 1
                }
            }
            guard digits.count <= 8, let value = UInt32(digits, radix: 16), let scalar = Unicode.Scalar(value) else {
                throw error("bad \\x escape")
            }
            return literal(scalar)
        case "A" where !inClass: return (.textStart, nil)
        case "z" where !inClass: return (.textEnd, nil)
        case "b" where !inClass: return (.wordBoundary(true), nil)
        case "B" where !inClass: return (.wordBoundary(false), nil)
        default:
            // Any punctuation may be escaped to stand for itself.
            guard c.value < 128, !c.isIdentifierStart, !c.isDigit else {
                throw error("unsupported escape '\\\(c)'")
            }
            return literal(c)
        }
    }

    private mutating func parseClass(_ flags: Flags) throws(CELError) -> CELRegex.ScalarSet {
        var set = CELRegex.ScalarSet(caseInsensitive: flags.caseInsensitive)
        if peek() == "^" { set.negated = true; position += 1 }
        var first = true
        while true {
            guard let c = peek() else { throw error("missing ']'") }
            if c == "]" && !first { position += 1; return set }
            first = false
            if c == "[", peek(1) == ":" {
                position += 2
                var name = ""
                while let d = peek(), d != ":" { name.unicodeScalars.append(d); position += 1 }
                guard peek() == ":", peek(1) == "]", let ranges = Self.posixClasses[name] else { throw error("bad POSIX class") }
                position += 2
                set.ranges += ranges
                continue
            }
            let low: Unicode.Scalar
            position += 1
            if c == "\\" {
                let escape = try parseEscape(flags, inClass: true)
                if let inner = escape.set {
                    guard !inner.negated else { throw error("negated class escapes inside [] are not supported") }
                    set.ranges += inner.ranges
                    continue
                }
                guard case .scalar(let s, _) = escape.node else { throw error("bad escape in class") }
                low = s
            } else {
                low = c
            }
            var high = low
            if peek() == "-", let next = peek(1), next != "]" {
                position += 2
                if next == "\\" {
                    guard case .scalar(let s, _) = try parseEscape(flags, inClass: true).node else { throw error("bad range") }
                    high = s
                } else {
                    high = next
                }
                guard high.value >= low.value else { throw error("bad character class range") }
            }
            set.ranges.append(low.value...high.value)
        }
    }

    static let digit: [ClosedRange<UInt32>] = [48...57]
    static let word: [ClosedRange<UInt32>] = [48...57, 65...90, 95...95, 97...122]
    static let space: [ClosedRange<UInt32>] = [9...10, 12...13, 32...32]
    static let posixClasses: [String: [ClosedRange<UInt32>]] = [
        "alpha": [65...90, 97...122], "digit": digit, "alnum": [48...57, 65...90, 97...122], "space": [9...13, 32...32],
        "upper": [65...90], "lower": [97...122], "xdigit": [48...57, 65...70, 97...102], "word": word,
        "punct": [33...47, 58...64, 91...96, 123...126], "blank": [9...9, 32...32], "cntrl": [0...31, 127...127],
        "print": [32...126], "graph": [33...126], "ascii": [0...127],
    ]
}
