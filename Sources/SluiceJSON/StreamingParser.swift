/// A JSON parser that reads bytes in any chunking and can stop after any byte.
///
/// It keeps everything it needs between chunks (the open containers, the decoded prefix of
/// an open string, the text of an open number), so each byte is looked at once and the total
/// work is linear in the input. It backs ``JSONIncrementalParser``, and it explains the
/// failures yajl reports, so both parsers word every error the same way.
struct StreamingParser {
    enum Mode {
        /// Expecting a value. `allowsClose`: right after `[` (so `]` closes an empty array).
        case value
        /// A value just ended inside a container.
        case afterValue
        /// Expecting a member key. `allowsClose`: right after `{`.
        case key
        case colon
        case string
        case number
        case literal
        /// The whole document has been read; only whitespace may follow.
        case done
        /// An unexpected non-ASCII character: waiting for its remaining bytes to name it.
        case failingOnCharacter(remaining: Int)
    }

    var mode = Mode.value
    var allowsClose = false
    var builder: ValueBuilder
    /// Where the token being read started (string quote, number, literal).
    var tokenStart = 0
    var lastCommaOffset = 0
    var pendingFailure: ParseFailure?

    // Open string state (see StreamingParser+String.swift).
    var stringIsKey = false
    var stringState = StringState.plain
    var stringBytes: [UInt8] = []
    /// How many leading bytes of `stringBytes` are complete characters.
    var committedStringBytes = 0
    var escapeOffset = 0
    var highSurrogateOffset = 0
    var utf8LeadOffset = 0

    // Open number or literal state (see StreamingParser+Scalars.swift).
    var numberState = NumberState.sign
    var numberBytes: [UInt8] = []
    var literal: Literal = .null
    var literalMatched = 0

    init(options: JSONParser.Options, recordsLocations: Bool = false) {
        builder = ValueBuilder(options: options, recordsLocations: recordsLocations)
    }

    /// Reads one chunk whose first byte is at absolute offset `base`.
    mutating func consume(_ chunk: UnsafeBufferPointer<UInt8>, at base: Int) throws(ParseFailure) {
        var index = 0
        let count = chunk.count
        while index < count {
            switch mode {
            case .string:
                try consumeString(chunk, &index, base: base)
            case .number:
                try consumeNumber(chunk, &index, base: base)
            case .literal:
                try consumeLiteral(chunk, &index, base: base)
            case .failingOnCharacter(let remaining):
                index += 1
                if remaining <= 1, let pendingFailure { throw pendingFailure }
                mode = .failingOnCharacter(remaining: remaining - 1)
            default:
                let byte = chunk[index]
                if byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 {
                    index += 1
                    continue
                }
                try structural(byte, at: base + index)
                index += 1
            }
        }
    }

    /// Ends the input and returns the document's value.
    mutating func finish(at end: Int) throws(ParseFailure) -> JSONValue {
        switch mode {
        case .number:
            guard numberState.isComplete else {
                throw ParseFailure(.unexpectedEnd(numberState.expectation), at: end)
            }
            try completeNumber()
            return try finish(at: end)
        case .done:
            guard let root = builder.root else { throw ParseFailure(.emptyDocument, at: 0) }
            return root
        case .value where builder.depth == 0:
            throw ParseFailure(.emptyDocument, at: 0)
        case .string:
            throw ParseFailure(.unterminatedString, at: tokenStart)
        case .literal:
            throw ParseFailure(.unexpectedEnd("expected '\(literal.text)'"), at: end)
        case .failingOnCharacter:
            throw pendingFailure ?? ParseFailure(.invalidUTF8, at: end)
        case .value, .afterValue, .key, .colon:
            throw ParseFailure(.unexpectedEnd(expectation), at: end)
        }
    }

    /// The value read so far, with open containers closed and an open string or number included.
    var partialValue: JSONValue? {
        var pending: JSONValue?
        switch mode {
        case .string where !stringIsKey:
            pending = .string(String(decoding: stringBytes[..<committedStringBytes], as: UTF8.self))
        case .number where numberState.isComplete:
            pending = numberBytes.withUnsafeBufferPointer { JSONNumber.value(from: $0) }
        default:
            pending = nil
        }
        return builder.partialValue(including: pending)
    }

    /// What may come next, for messages (`expected ']' or ','`).
    var expectation: String {
        switch mode {
        case .value:
            if builder.depth == 0 { return "expected a value" }
            return allowsClose ? "expected a value or ']'" : "expected a value"
        case .key: return allowsClose ? "expected a string key or '}'" : "expected a string key"
        case .colon: return "expected ':' after the key"
        case .afterValue: return builder.innermost == .array ? "expected ']' or ','" : "expected '}' or ','"
        default: return "expected the end of input"
        }
    }

    /// One byte outside strings, numbers and literals (whitespace already skipped).
    private mutating func structural(_ byte: UInt8, at offset: Int) throws(ParseFailure) {
        switch mode {
        case .value:
            switch byte {
            case UInt8(ascii: "\""): startString(isKey: false, at: offset)
            case UInt8(ascii: "["): try open(.array, at: offset)
            case UInt8(ascii: "{"): try open(.object, at: offset)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): startNumber(byte, at: offset)
            case UInt8(ascii: "t"): startLiteral(.true, at: offset)
            case UInt8(ascii: "f"): startLiteral(.false, at: offset)
            case UInt8(ascii: "n"): startLiteral(.null, at: offset)
            case UInt8(ascii: "]") where builder.innermost == .array:
                guard allowsClose else { throw ParseFailure(.trailingComma, at: lastCommaOffset) }
                close()
            case UInt8(ascii: "'"): throw ParseFailure(.singleQuotedString, at: offset)
            default: try unexpected(byte, at: offset)
            }
        case .key:
            switch byte {
            case UInt8(ascii: "\""): startString(isKey: true, at: offset)
            case UInt8(ascii: "}"):
                guard allowsClose else { throw ParseFailure(.trailingComma, at: lastCommaOffset) }
                close()
            case UInt8(ascii: "'"): throw ParseFailure(.singleQuotedString, at: offset)
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "_"), UInt8(ascii: "$"):
                throw ParseFailure(.unquotedKey, at: offset)
            default: try unexpected(byte, at: offset)
            }
        case .colon:
            guard byte == UInt8(ascii: ":") else { return try unexpected(byte, at: offset) }
            mode = .value
            allowsClose = false
        case .afterValue:
            let inArray = builder.innermost == .array
            switch byte {
            case UInt8(ascii: ","):
                lastCommaOffset = offset
                mode = inArray ? .value : .key
                allowsClose = false
            case UInt8(ascii: "]") where inArray: close()
            case UInt8(ascii: "}") where !inArray: close()
            case UInt8(ascii: "\""), UInt8(ascii: "["), UInt8(ascii: "{"), UInt8(ascii: "-"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
                throw ParseFailure(.missingComma(inArray: inArray), at: offset)
            default: try unexpected(byte, at: offset)
            }
        case .done:
            try fail(ParseFailure(.trailingCharacters, at: offset), onByte: byte, at: offset)
        default:
            preconditionFailure("structural byte in mode \(mode)")
        }
    }

    private mutating func open(_ container: ValueBuilder.Container, at offset: Int) throws(ParseFailure) {
        guard builder.begin(container, at: offset) else {
            throw ParseFailure(.tooDeep(limit: builder.maxDepth), at: offset)
        }
        mode = container == .array ? .value : .key
        allowsClose = true
    }

    private mutating func close() {
        builder.end()
        valueEnded()
    }

    /// After any complete value: the document is done, or the container expects more.
    mutating func valueEnded() {
        mode = builder.depth == 0 ? .done : .afterValue
    }

    private mutating func unexpected(_ byte: UInt8, at offset: Int) throws(ParseFailure) {
        try fail(ParseFailure(.unexpectedCharacter(expected: expectation), at: offset), onByte: byte, at: offset)
    }

    /// Throws `failure` now, or once the rest of a multibyte character has arrived so the
    /// message can name it (the same text whatever the chunking): then `consume` throws it.
    private mutating func fail(_ failure: ParseFailure, onByte byte: UInt8, at offset: Int) throws(ParseFailure) {
        let length = UTF8Sequence.length(ofLead: byte)
        if length == 0 { throw ParseFailure(.invalidUTF8, at: offset) }
        if length == 1 { throw failure }
        pendingFailure = failure
        mode = .failingOnCharacter(remaining: length - 1)
    }
}
