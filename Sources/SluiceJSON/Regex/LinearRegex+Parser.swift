extension LinearRegex {
    /// Parses RE2 or ECMA-262 syntax into a ``LinearRegex/Node`` tree (see ``LinearRegex`` for
    /// what is supported). Backreferences and lookaround are recognised so that they can be
    /// refused by name rather than as a syntax error.
    struct Parser {
        let pattern: [Unicode.Scalar]
        let syntax: Syntax
        var position = 0
        private var depth = 0

        struct Flags {
            var caseInsensitive = false
            var multiline = false
            var dotMatchesNewline = false
        }

        init(_ pattern: [Unicode.Scalar], syntax: Syntax) {
            self.pattern = pattern
            self.syntax = syntax
        }

        mutating func parse() throws(Error) -> Node {
            var flags = Flags()
            let node = try parseAlternation(&flags)
            guard position == pattern.count else { throw error("unmatched ')'") }
            return node
        }

        func error(_ message: String) -> Error {
            Error(kind: .syntax, message: message, position: position)
        }

        /// A construct that needs backtracking, found at `start`.
        func unsupported(_ construct: String, at start: Int) -> Error {
            Error(kind: .unsupported, message: construct, position: start)
        }

        func peek(_ ahead: Int = 0) -> Unicode.Scalar? {
            position + ahead < pattern.count ? pattern[position + ahead] : nil
        }

        private mutating func parseAlternation(_ flags: inout Flags) throws(Error) -> Node {
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

        private mutating func parseConcatenation(_ flags: inout Flags) throws(Error) -> Node {
            var parts: [Node] = []
            while let c = peek(), c != "|", c != ")" {
                var atom = try parseAtom(&flags)
                atom = try parseQuantifiers(atom)
                parts.append(atom)
            }
            return parts.isEmpty ? .empty : (parts.count == 1 ? parts[0] : .concat(parts))
        }

        private mutating func parseQuantifiers(_ atom: Node) throws(Error) -> Node {
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
        private mutating func parseCount() throws(Error) -> (Int, Int?)? {
            let start = position
            position += 1
            func number() -> Int? {
                var digits = ""
                while let d = peek(), ScalarSet.isDigit(d), digits.count < 6 { digits.unicodeScalars.append(d); position += 1 }
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
            guard high.map({ $0 >= low }) ?? true else { throw error("bad repetition count") }
            guard low <= maxRepeat, (high ?? 0) <= maxRepeat else {
                throw error("repetition count over \(maxRepeat)")
            }
            return (low, high)
        }

        private mutating func parseAtom(_ flags: inout Flags) throws(Error) -> Node {
            guard let c = peek() else { throw error("unexpected end") }
            position += 1
            switch c {
            case ".":
                if flags.dotMatchesNewline { return .any }
                switch syntax {
                case .re2: return .set(ScalarSet(ranges: [10...10], negated: true))
                case .ecmaScript: return .set(ScalarSet(ranges: ScalarSet.ecmaLineTerminators, negated: true))
                }
            case "^": return .assert(flags.multiline ? .lineStart : .textStart)
            case "$": return .assert(flags.multiline ? .lineEnd : .textEnd)
            case "[": return .set(try parseClass(flags))
            case "\\": return try parseEscape(flags)
            case "*", "+", "?": throw error("missing argument to repetition operator")
            case "(": return try parseGroup(&flags)
            default: return .scalar(c, flags.caseInsensitive)
            }
        }

        /// After `(`: a group, a flag setting, or lookaround (refused).
        private mutating func parseGroup(_ flags: inout Flags) throws(Error) -> Node {
            let start = position - 1
            var inner = flags
            if peek() == "?" {
                position += 1
                switch (peek(), peek(1)) {
                case ("=", _): throw unsupported("a lookahead ((?=…))", at: start)
                case ("!", _): throw unsupported("a negative lookahead ((?!…))", at: start)
                case ("<", "="): throw unsupported("a lookbehind ((?<=…))", at: start)
                case ("<", "!"): throw unsupported("a negative lookbehind ((?<!…))", at: start)
                case ("P", _), ("<", _):
                    // Named group: (?P<name>…) or (?<name>…).
                    while let d = peek(), d != ">" { position += 1 }
                    guard peek() == ">" else { throw error("unterminated group name") }
                    position += 1
                default:
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
        }

        /// After `\` outside brackets: an assertion, a backreference (refused), a class or a
        /// scalar.
        private mutating func parseEscape(_ flags: Flags) throws(Error) -> Node {
            let start = position - 1
            switch (peek(), syntax) {
            case ("b", _): position += 1; return .assert(.wordBoundary)
            case ("B", _): position += 1; return .assert(.notWordBoundary)
            case ("A", .re2): position += 1; return .assert(.textStart)
            case ("z", .re2): position += 1; return .assert(.textEnd)
            case ("k", .ecmaScript) where peek(1) == "<":
                var end = position
                while end < pattern.count, pattern[end] != ">" { end += 1 }
                let name = String(String.UnicodeScalarView(pattern[position..<min(end + 1, pattern.count)]))
                throw unsupported("a backreference (\\\(name))", at: start)
            case (let d?, _) where ScalarSet.isDigit(d) && d != "0":
                var end = position
                while end < pattern.count, ScalarSet.isDigit(pattern[end]) { end += 1 }
                let number = String(String.UnicodeScalarView(pattern[position..<end]))
                throw unsupported("a backreference (\\\(number))", at: start)
            default:
                let escape = try parseClassEscape(flags, inClass: false)
                switch escape {
                case .scalar(let s): return .scalar(s, flags.caseInsensitive)
                case .set(let set): return .set(set)
                }
            }
        }

        enum ClassEscape {
            case scalar(Unicode.Scalar)
            case set(ScalarSet)
        }
    }
}
