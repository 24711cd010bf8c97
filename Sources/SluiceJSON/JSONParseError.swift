/// A JSON document that could not be parsed: what went wrong and where.
///
/// `description` reads `LINE:COL: message`, ready to be prefixed with a file path.
public struct JSONParseError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var location: SourceLocation

    public init(message: String, location: SourceLocation) {
        self.message = message
        self.location = location
    }

    public var description: String { "\(location): \(message)" }
}

/// A parse failure before it is rendered: a kind and the byte offset it points at.
///
/// Both parsers (yajl and the streaming one) report failures this way, and one catalogue
/// (`message(in:)`) turns them into text, so the same mistake reads the same everywhere.
struct ParseFailure: Error {
    enum Kind {
        case emptyDocument
        /// The input ended; the associated text says what was expected (`expected ']' or ','`).
        case unexpectedEnd(String)
        /// The character at the offset is not allowed here.
        case unexpectedCharacter(expected: String)
        case missingComma(inArray: Bool)
        case trailingComma
        case trailingCharacters
        case singleQuotedString
        case unquotedKey
        case controlCharacterInString
        case invalidEscape
        case invalidUnicodeEscape
        case unpairedSurrogate(UInt32)
        case invalidUTF8
        case unterminatedString
        case invalidNumber(String)
        case leadingZero
        case numberOutOfRange(String)
        case invalidLiteral(String)
        case duplicateKey(String)
        case tooDeep(limit: Int)
        case tooLarge(size: Int, limit: Int)
        case streamTooLarge(limit: Int)
        case alreadyFinished
        /// A failure yajl reported that the streaming parser did not reproduce (should not happen).
        case underlying(String)
    }

    var kind: Kind
    var offset: Int

    init(_ kind: Kind, at offset: Int) {
        self.kind = kind
        self.offset = offset
    }

    /// Renders the failure against the input it happened in.
    func error(in bytes: UnsafeBufferPointer<UInt8>) -> JSONParseError {
        var tracker = LocationTracker()
        let location = tracker.advance(to: offset, in: bytes)
        return JSONParseError(message: message(in: bytes), location: location)
    }

    func message(in bytes: UnsafeBufferPointer<UInt8>) -> String {
        switch kind {
        case .emptyDocument: return "empty document"
        case .unexpectedEnd(let expected): return "unexpected end of input: \(expected)"
        case .unexpectedCharacter(let expected):
            guard let character = Self.character(at: offset, in: bytes) else { return "invalid UTF-8" }
            return "unexpected character \(character): \(expected)"
        case .missingComma(let inArray):
            return inArray ? "missing ',' between array elements" : "missing ',' between object members"
        case .trailingComma: return "trailing comma not allowed"
        case .trailingCharacters:
            guard let character = Self.character(at: offset, in: bytes) else { return "invalid UTF-8" }
            return "unexpected character \(character) after the JSON value"
        case .singleQuotedString: return "strings must use double quotes, not single quotes"
        case .unquotedKey: return "object keys must be strings in double quotes"
        case .controlCharacterInString:
            let byte = offset < bytes.count ? bytes[offset] : 0
            return "control character \(Self.codePoint(UInt32(byte))) must be escaped in a string"
        case .invalidEscape:
            if offset + 1 < bytes.count, let printable = Self.printableASCII(bytes[offset + 1]) {
                return "invalid escape '\\\(printable)' in string"
            }
            return "invalid escape in string: '\\' must be followed by one of \" \\ / b f n r t u"
        case .invalidUnicodeEscape: return "invalid unicode escape in string: '\\u' must be followed by 4 hex digits"
        case .unpairedSurrogate(let unit):
            return "unpaired surrogate '\\u\(Self.hex4(unit))' in string"
        case .invalidUTF8: return "invalid UTF-8"
        case .unterminatedString: return "unterminated string: the input ends before its closing quote"
        case .invalidNumber(let expected): return "invalid number: \(expected)"
        case .leadingZero: return "invalid number: leading zeros are not allowed"
        case .numberOutOfRange(let text): return "number \(text) is out of range"
        case .invalidLiteral(let literal): return "invalid literal: expected '\(literal)'"
        case .duplicateKey(let key): return "duplicate key '\(key)'"
        case .tooDeep(let limit): return "nesting deeper than \(limit) levels"
        case .tooLarge(let size, let limit): return "input is \(size) bytes; the limit is \(limit)"
        case .streamTooLarge(let limit): return "input exceeds the limit of \(limit) bytes"
        case .alreadyFinished: return "input after the parser finished"
        case .underlying(let text): return "invalid JSON (\(text))"
        }
    }

    /// The character starting at `offset`, quoted for a message; nil if it is not valid UTF-8.
    static func character(at offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> String? {
        guard offset < bytes.count else { return "end of input" }
        let lead = bytes[offset]
        if let printable = printableASCII(lead) { return "'\(printable)'" }
        if lead < 0x80 { return codePoint(UInt32(lead)) }
        let length = UTF8Sequence.length(ofLead: lead)
        guard length > 0, offset + length <= bytes.count,
            let text = String(validating: UnsafeBufferPointer(rebasing: bytes[offset..<offset + length]), as: UTF8.self),
            let scalar = text.unicodeScalars.first
        else { return nil }
        // Invisible characters (no-break space, byte order mark, ...) are named by code point.
        switch scalar.properties.generalCategory {
        case .spaceSeparator, .format, .control, .lineSeparator, .paragraphSeparator, .nonspacingMark:
            return codePoint(scalar.value)
        default:
            return "'\(text)' (\(codePoint(scalar.value)))"
        }
    }

    static func printableASCII(_ byte: UInt8) -> Character? {
        (0x21...0x7E).contains(byte) ? Character(Unicode.Scalar(byte)) : nil
    }

    static func codePoint(_ value: UInt32) -> String {
        let hex = String(value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    static func hex4(_ value: UInt32) -> String {
        let hex = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }
}

/// Facts about UTF-8 sequences, per the Unicode Standard's table of well-formed byte sequences.
enum UTF8Sequence {
    /// The total length of a sequence starting with `lead`, or 0 when `lead` cannot start one.
    static func length(ofLead lead: UInt8) -> Int {
        switch lead {
        case 0x00...0x7F: 1
        case 0xC2...0xDF: 2
        case 0xE0...0xEF: 3
        case 0xF0...0xF4: 4
        default: 0
        }
    }

    /// The allowed range of the byte after `lead` (it excludes overlongs, surrogates and values above U+10FFFF).
    static func secondByteRange(afterLead lead: UInt8) -> ClosedRange<UInt8> {
        switch lead {
        case 0xE0: 0xA0...0xBF
        case 0xED: 0x80...0x9F
        case 0xF0: 0x90...0xBF
        case 0xF4: 0x80...0x8F
        default: 0x80...0xBF
        }
    }
}
