extension LinearRegex.Parser {
    typealias ScalarSet = LinearRegex.ScalarSet

    /// After `[`: the bracketed class up to its `]`.
    mutating func parseClass(_ flags: Flags) throws(LinearRegex.Error) -> ScalarSet {
        var set = ScalarSet(caseInsensitive: flags.caseInsensitive)
        if peek() == "^" { set.negated = true; position += 1 }
        // RE2 reads a `]` right after `[` or `[^` as a literal; ECMA-262 closes the class, so
        // `[]` matches nothing and `[^]` matches everything.
        var first = syntax == .re2
        while true {
            guard let c = peek() else { throw error("missing ']'") }
            if c == "]" && !first { position += 1; return set }
            first = false
            if syntax == .re2, c == "[", peek(1) == ":" {
                position += 2
                var name = ""
                while let d = peek(), d != ":" { name.unicodeScalars.append(d); position += 1 }
                guard peek() == ":", peek(1) == "]", let ranges = ScalarSet.posixClasses[name] else { throw error("bad POSIX class") }
                position += 2
                set.ranges += ranges
                continue
            }
            let low: Unicode.Scalar
            position += 1
            if c == "\\" {
                switch try parseClassEscape(flags, inClass: true) {
                case .set(let inner):
                    set.add(inner)
                    continue
                case .scalar(let s):
                    low = s
                }
            } else {
                low = c
            }
            var high = low
            if peek() == "-", let next = peek(1), next != "]" {
                position += 2
                if next == "\\" {
                    guard case .scalar(let s) = try parseClassEscape(flags, inClass: true) else { throw error("bad character class range") }
                    high = s
                } else {
                    high = next
                }
                guard high.value >= low.value else { throw error("bad character class range") }
            }
            set.ranges.append(low.value...high.value)
        }
    }

    /// After `\` (inside or outside brackets), an escape that stands for a scalar or a set.
    mutating func parseClassEscape(_ flags: Flags, inClass: Bool) throws(LinearRegex.Error) -> ClassEscape {
        guard let c = peek() else { throw error("trailing backslash") }
        position += 1
        func set(_ ranges: [ClosedRange<UInt32>], negated: Bool = false) -> ClassEscape {
            .set(ScalarSet(ranges: ranges, negated: negated, caseInsensitive: flags.caseInsensitive))
        }
        let space = syntax == .re2 ? ScalarSet.re2Space : ScalarSet.ecmaSpace
        switch (c, syntax) {
        case ("d", _): return set(ScalarSet.digit)
        case ("D", _): return set(ScalarSet.digit, negated: true)
        case ("w", _): return set(ScalarSet.word)
        case ("W", _): return set(ScalarSet.word, negated: true)
        case ("s", _): return set(space)
        case ("S", _): return set(space, negated: true)
        case ("n", _): return .scalar("\n")
        case ("t", _): return .scalar("\t")
        case ("r", _): return .scalar("\r")
        case ("f", _): return .scalar("\u{0C}")
        case ("v", _): return .scalar("\u{0B}")
        case ("a", .re2): return .scalar("\u{07}")
        case ("b", .ecmaScript) where inClass: return .scalar("\u{08}")
        case ("0", .ecmaScript) where !(peek().map(ScalarSet.isDigit) ?? false): return .scalar("\u{0}")
        case ("c", .ecmaScript):
            guard let letter = peek(), ("a"..."z").contains(letter) || ("A"..."Z").contains(letter),
                let control = Unicode.Scalar(letter.value % 32)
            else { throw error("\\c must be followed by a letter") }
            position += 1
            return .scalar(control)
        case ("x", _):
            if syntax == .re2, peek() == "{" { return .scalar(try bracedHex("\\x{…}")) }
            return .scalar(try fixedHex(2, "\\x"))
        case ("u", .ecmaScript):
            if peek() == "{" { return .scalar(try bracedHex("\\u{…}")) }
            return .scalar(try utf16Escape())
        case ("p", .ecmaScript), ("P", .ecmaScript):
            return .set(try parseProperty(negated: c == "P", flags))
        default:
            // Any ASCII punctuation may be escaped to stand for itself.
            guard c.isASCII, !ScalarSet.isWord(c) else { throw error("unsupported escape '\\\(c)'") }
            return .scalar(c)
        }
    }

    /// `\uXXXX`, joining a UTF-16 surrogate pair written as two escapes into one scalar.
    private mutating func utf16Escape() throws(LinearRegex.Error) -> Unicode.Scalar {
        let unit = try fixedHexValue(4, "\\u")
        if (0xD800...0xDBFF).contains(unit), peek() == "\\", peek(1) == "u" {
            let start = position
            position += 2
            if let low = try? fixedHexValue(4, "\\u"), (0xDC00...0xDFFF).contains(low),
                let scalar = Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
            {
                return scalar
            }
            position = start
        }
        guard let scalar = Unicode.Scalar(unit) else { throw error("lone surrogate in \\u escape") }
        return scalar
    }

    private mutating func fixedHex(_ count: Int, _ name: String) throws(LinearRegex.Error) -> Unicode.Scalar {
        guard let scalar = Unicode.Scalar(try fixedHexValue(count, name)) else { throw error("bad \(name) escape") }
        return scalar
    }

    private mutating func fixedHexValue(_ count: Int, _ name: String) throws(LinearRegex.Error) -> UInt32 {
        var digits = ""
        for _ in 0..<count {
            guard let d = peek(), d.properties.isASCIIHexDigit else { throw error("bad \(name) escape") }
            digits.unicodeScalars.append(d)
            position += 1
        }
        guard let value = UInt32(digits, radix: 16) else { throw error("bad \(name) escape") }
        return value
    }

    /// `{hex}` after `\x` (RE2) or `\u` (ECMA-262).
    private mutating func bracedHex(_ name: String) throws(LinearRegex.Error) -> Unicode.Scalar {
        position += 1
        var digits = ""
        while let d = peek(), d != "}" { digits.unicodeScalars.append(d); position += 1 }
        guard peek() == "}" else { throw error("unterminated \(name)") }
        position += 1
        guard digits.count <= 8, let value = UInt32(digits, radix: 16), let scalar = Unicode.Scalar(value) else {
            throw error("bad \(name) escape")
        }
        return scalar
    }

    /// After `\p` or `\P`: `{Name}` or `{Name=Value}`.
    private mutating func parseProperty(negated: Bool, _ flags: Flags) throws(LinearRegex.Error) -> ScalarSet {
        guard peek() == "{" else { throw error("\\p must be followed by {property}") }
        position += 1
        var name = ""
        while let d = peek(), d != "}" { name.unicodeScalars.append(d); position += 1 }
        guard peek() == "}" else { throw error("unterminated \\p{…}") }
        guard let property = LinearRegex.UnicodeProperty(name: name) else {
            let script = ["Script=", "sc=", "Script_Extensions=", "scx="].contains { name.hasPrefix($0) }
            throw error(script
                ? "Unicode script properties (\\p{\(name)}) are not supported; use a range such as [\\u0370-\\u03FF]"
                : "unknown Unicode property '\(name)'")
        }
        position += 1
        return ScalarSet(property: property, negated: negated, caseInsensitive: flags.caseInsensitive)
    }
}
