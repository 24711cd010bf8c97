/// Splits CEL source into tokens: literals (with their escapes decoded), identifiers and operators.
struct CELLexer {
    private let scalars: [Unicode.Scalar]
    private var position = 0

    init(_ source: String) {
        scalars = Array(source.unicodeScalars)
    }

    /// Every token of the source, ending with `.end`.
    static func tokenize(_ source: String) throws(CELError) -> [CELToken] {
        var lexer = CELLexer(source)
        var tokens: [CELToken] = []
        while true {
            let token = try lexer.next()
            tokens.append(token)
            if token.kind == .end { return tokens }
        }
    }

    private func peek(_ ahead: Int = 0) -> Unicode.Scalar? {
        let i = position + ahead
        return i < scalars.count ? scalars[i] : nil
    }

    private mutating func skipSpaceAndComments() {
        while let c = peek() {
            if c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\u{0C}" {
                position += 1
            } else if c == "/", peek(1) == "/" {
                while let d = peek(), d != "\n" { position += 1 }
            } else {
                return
            }
        }
    }

    mutating func next() throws(CELError) -> CELToken {
        skipSpaceAndComments()
        let start = position
        guard let c = peek() else { return CELToken(kind: .end, range: start..<start) }

        if c.isDigit || (c == "." && peek(1)?.isDigit == true) {
            let kind = try lexNumber()
            return CELToken(kind: kind, range: start..<position)
        }
        if c == "\"" || c == "'" {
            let text = try lexQuoted(raw: false, bytes: false)
            return CELToken(kind: .string(text.string), range: start..<position)
        }
        if c.isIdentifierStart {
            if let prefix = stringPrefix() {
                position += prefix.length
                let text = try lexQuoted(raw: prefix.raw, bytes: prefix.bytes)
                let kind: CELToken.Kind = prefix.bytes ? .bytes(text.bytes) : .string(text.string)
                return CELToken(kind: kind, range: start..<position)
            }
            var name = ""
            while let d = peek(), d.isIdentifierStart || d.isDigit {
                name.unicodeScalars.append(d)
                position += 1
            }
            return CELToken(kind: .identifier(name), range: start..<position)
        }
        if c == "`" {
            position += 1
            var name = ""
            while let d = peek(), d != "`" {
                guard d.isIdentifierStart || d.isDigit || d == "." || d == "-" || d == "/" || d == " " else {
                    throw CELError("invalid character '\(d.escaped(asASCII: true))' in a quoted field name", offset: position)
                }
                name.unicodeScalars.append(d)
                position += 1
            }
            guard peek() == "`" else { throw CELError("unterminated quoted field name", offset: start) }
            position += 1
            guard !name.isEmpty else { throw CELError("empty quoted field name", offset: start) }
            return CELToken(kind: .quotedIdentifier(name), range: start..<position)
        }
        for op in ["==", "!=", "<=", ">=", "&&", "||"] where matches(op) {
            position += 2
            return CELToken(kind: .punctuation(op), range: start..<position)
        }
        if "<>!?:+-*/%.,()[]{}".unicodeScalars.contains(c) {
            position += 1
            return CELToken(kind: .punctuation(String(c)), range: start..<position)
        }
        throw CELError("unexpected character '\(c.escaped(asASCII: true))'", offset: start)
    }

    private func matches(_ text: String) -> Bool {
        for (i, s) in text.unicodeScalars.enumerated() where peek(i) != s { return false }
        return true
    }

    /// A string prefix (`r`, `b`, `br`, `rb` in any case) directly followed by a quote.
    private func stringPrefix() -> (length: Int, raw: Bool, bytes: Bool)? {
        var raw = false, bytes = false, length = 0
        while length < 2, let c = peek(length) {
            if (c == "r" || c == "R") && !raw { raw = true } else if (c == "b" || c == "B") && !bytes { bytes = true } else { break }
            length += 1
        }
        guard length > 0, let quote = peek(length), quote == "\"" || quote == "'" else { return nil }
        return (length, raw, bytes)
    }

    // MARK: Numbers

    private mutating func lexNumber() throws(CELError) -> CELToken.Kind {
        let start = position
        if peek() == "0", peek(1) == "x" || peek(1) == "X" {
            position += 2
            var digits = ""
            while let d = peek(), d.isHexDigit { digits.unicodeScalars.append(d); position += 1 }
            guard !digits.isEmpty, let magnitude = UInt64(digits, radix: 16) else {
                throw CELError("invalid hexadecimal literal", offset: start)
            }
            return try integerSuffix(magnitude, start: start)
        }
        var text = ""
        var isDouble = false
        while let d = peek(), d.isDigit { text.unicodeScalars.append(d); position += 1 }
        if peek() == ".", peek(1)?.isDigit == true {
            isDouble = true
            text += "."
            position += 1
            while let d = peek(), d.isDigit { text.unicodeScalars.append(d); position += 1 }
        }
        if peek() == "e" || peek() == "E" {
            let sign = peek(1) == "+" || peek(1) == "-"
            if peek(sign ? 2 : 1)?.isDigit == true {
                isDouble = true
                text += "e"
                position += 1
                if sign, let s = peek() { text.unicodeScalars.append(s); position += 1 }
                while let d = peek(), d.isDigit { text.unicodeScalars.append(d); position += 1 }
            }
        }
        if isDouble {
            guard let value = Double(text) else { throw CELError("invalid floating-point literal", offset: start) }
            return .double(value)
        }
        guard let magnitude = UInt64(text) else { throw CELError("integer literal out of range", offset: start) }
        return try integerSuffix(magnitude, start: start)
    }

    private mutating func integerSuffix(_ magnitude: UInt64, start: Int) throws(CELError) -> CELToken.Kind {
        if peek() == "u" || peek() == "U" {
            position += 1
            return .uint(magnitude)
        }
        return .int(magnitude: magnitude)
    }

    // MARK: Strings and bytes

    private struct QuotedText {
        var string = ""
        var bytes: [UInt8] = []
        var isBytes: Bool

        mutating func append(_ scalar: Unicode.Scalar) {
            if isBytes { bytes.append(contentsOf: Array(String(scalar).utf8)) } else { string.unicodeScalars.append(scalar) }
        }

        /// A `\x` or octal escape: a code point in a string, a raw byte in bytes.
        mutating func appendOctet(_ value: UInt32) {
            if isBytes { bytes.append(UInt8(value)) } else { string.unicodeScalars.append(Unicode.Scalar(UInt8(value))) }
        }
    }

    private mutating func lexQuoted(raw: Bool, bytes: Bool) throws(CELError) -> QuotedText {
        let start = position
        guard let quote = peek() else { throw CELError("unterminated literal", offset: start) }
        let triple = peek(1) == quote && peek(2) == quote
        position += triple ? 3 : 1
        var text = QuotedText(isBytes: bytes)
        while true {
            guard let c = peek() else {
                throw CELError(bytes ? "unterminated bytes literal" : "unterminated string literal", offset: start)
            }
            if c == quote && (!triple || (peek(1) == quote && peek(2) == quote)) {
                position += triple ? 3 : 1
                return text
            }
            if !triple && (c == "\n" || c == "\r") {
                throw CELError("line break in a single-quoted literal (use ''' or \"\"\" for several lines)", offset: position)
            }
            if c == "\\" {
                if raw {
                    // Raw literals keep the backslash; it still stops the next quote from closing the literal.
                    text.append(c)
                    position += 1
                    if let next = peek(), next == quote || next == "\\" {
                        text.append(next)
                        position += 1
                    }
                    continue
                }
                try lexEscape(into: &text)
                continue
            }
            text.append(c)
            position += 1
        }
    }

    private mutating func lexEscape(into text: inout QuotedText) throws(CELError) {
        let start = position
        position += 1
        guard let c = peek() else { throw CELError("unterminated escape sequence", offset: start) }
        position += 1
        switch c {
        case "\\", "?", "\"", "'", "`": text.append(c)
        case "a": text.append("\u{07}")
        case "b": text.append("\u{08}")
        case "f": text.append("\u{0C}")
        case "n": text.append("\n")
        case "r": text.append("\r")
        case "t": text.append("\t")
        case "v": text.append("\u{0B}")
        case "x", "X":
            text.appendOctet(try hexDigits(2, escapeStart: start))
        case "u", "U":
            guard !text.isBytes else { throw CELError("\\\(c) escapes are not allowed in bytes literals", offset: start) }
            let value = try hexDigits(c == "u" ? 4 : 8, escapeStart: start)
            guard let scalar = Unicode.Scalar(value) else {
                throw CELError("invalid Unicode code point in escape sequence", offset: start)
            }
            text.append(scalar)
        case "0"..."3":
            var value = c.value - 48
            for _ in 0..<2 {
                guard let d = peek(), ("0"..."7").contains(d) else {
                    throw CELError("octal escapes need three digits", offset: start)
                }
                value = value * 8 + d.value - 48
                position += 1
            }
            text.appendOctet(value)
        default:
            throw CELError("invalid escape sequence '\\\(c.escaped(asASCII: true))'", offset: start)
        }
    }

    private mutating func hexDigits(_ count: Int, escapeStart: Int) throws(CELError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<count {
            guard let d = peek(), d.isHexDigit, let digit = UInt32(String(d), radix: 16) else {
                throw CELError("escape sequence needs \(count) hexadecimal digits", offset: escapeStart)
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }
}

extension Unicode.Scalar {
    var isDigit: Bool { ("0"..."9").contains(self) }
    var isHexDigit: Bool { isDigit || ("a"..."f").contains(self) || ("A"..."F").contains(self) }
    var isIdentifierStart: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) || self == "_" }
}
