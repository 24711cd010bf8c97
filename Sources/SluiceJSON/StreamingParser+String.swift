/// Strings: decoded as they arrive, so an open string's prefix is always available and an
/// escape or a multibyte character split between chunks simply continues in the next one.
extension StreamingParser {
    enum StringState {
        case plain
        /// After a backslash.
        case escape
        /// Inside `\uXXXX`: `digits` read so far, their `value`.
        case unicode(digits: Int, value: UInt32)
        /// After a high surrogate escape: expecting the `\` of its low half.
        case lowBackslash(high: UInt32)
        /// Expecting the `u` of the low half.
        case lowU(high: UInt32)
        case lowUnicode(high: UInt32, digits: Int, value: UInt32)
        /// Inside a multibyte UTF-8 character: `remaining` bytes, the next one within `next`.
        case utf8(remaining: Int, next: ClosedRange<UInt8>)
    }

    mutating func startString(isKey: Bool, at offset: Int) {
        mode = .string
        stringIsKey = isKey
        stringState = .plain
        tokenStart = offset
        stringBytes.removeAll(keepingCapacity: true)
        committedStringBytes = 0
    }

    mutating func consumeString(_ chunk: UnsafeBufferPointer<UInt8>, _ index: inout Int, base: Int) throws(ParseFailure) {
        let count = chunk.count
        while index < count {
            if case .plain = stringState {
                // Fast path: copy a run of ordinary ASCII in one go.
                let runStart = index
                while index < count {
                    let byte = chunk[index]
                    guard byte >= 0x20, byte < 0x80, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") else { break }
                    index += 1
                }
                if index > runStart {
                    stringBytes.append(contentsOf: UnsafeBufferPointer(rebasing: chunk[runStart..<index]))
                    committedStringBytes = stringBytes.count
                }
                if index == count { return }
            }
            let byte = chunk[index]
            let offset = base + index
            index += 1
            switch stringState {
            case .plain:
                if byte == UInt8(ascii: "\"") {
                    try completeString()
                    return
                } else if byte == UInt8(ascii: "\\") {
                    escapeOffset = offset
                    stringState = .escape
                } else if byte < 0x20 {
                    throw ParseFailure(.controlCharacterInString, at: offset)
                } else {
                    let length = UTF8Sequence.length(ofLead: byte)
                    guard length > 1 else { throw ParseFailure(.invalidUTF8, at: offset) }
                    utf8LeadOffset = offset
                    stringBytes.append(byte)
                    stringState = .utf8(remaining: length - 1, next: UTF8Sequence.secondByteRange(afterLead: byte))
                }
            case .utf8(let remaining, let next):
                guard next.contains(byte) else { throw ParseFailure(.invalidUTF8, at: utf8LeadOffset) }
                stringBytes.append(byte)
                if remaining == 1 {
                    committedStringBytes = stringBytes.count
                    stringState = .plain
                } else {
                    stringState = .utf8(remaining: remaining - 1, next: 0x80...0xBF)
                }
            case .escape:
                let decoded: UInt8
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded = byte
                case UInt8(ascii: "b"): decoded = 0x08
                case UInt8(ascii: "f"): decoded = 0x0C
                case UInt8(ascii: "n"): decoded = 0x0A
                case UInt8(ascii: "r"): decoded = 0x0D
                case UInt8(ascii: "t"): decoded = 0x09
                case UInt8(ascii: "u"):
                    stringState = .unicode(digits: 0, value: 0)
                    continue
                default: throw ParseFailure(.invalidEscape, at: escapeOffset)
                }
                stringBytes.append(decoded)
                committedStringBytes = stringBytes.count
                stringState = .plain
            case .unicode(let digits, let value):
                guard let digit = Self.hexValue(byte) else { throw ParseFailure(.invalidUnicodeEscape, at: escapeOffset) }
                let unit = value << 4 | digit
                guard digits == 3 else {
                    stringState = .unicode(digits: digits + 1, value: unit)
                    continue
                }
                switch unit {
                case 0xD800...0xDBFF:
                    highSurrogateOffset = escapeOffset
                    stringState = .lowBackslash(high: unit)
                case 0xDC00...0xDFFF:
                    throw ParseFailure(.unpairedSurrogate(unit), at: escapeOffset)
                default:
                    appendScalar(unit)
                }
            case .lowBackslash(let high):
                guard byte == UInt8(ascii: "\\") else { throw ParseFailure(.unpairedSurrogate(high), at: highSurrogateOffset) }
                escapeOffset = offset
                stringState = .lowU(high: high)
            case .lowU(let high):
                guard byte == UInt8(ascii: "u") else { throw ParseFailure(.unpairedSurrogate(high), at: highSurrogateOffset) }
                stringState = .lowUnicode(high: high, digits: 0, value: 0)
            case .lowUnicode(let high, let digits, let value):
                guard let digit = Self.hexValue(byte) else { throw ParseFailure(.invalidUnicodeEscape, at: escapeOffset) }
                let unit = value << 4 | digit
                guard digits == 3 else {
                    stringState = .lowUnicode(high: high, digits: digits + 1, value: unit)
                    continue
                }
                guard (0xDC00...0xDFFF).contains(unit) else {
                    throw ParseFailure(.unpairedSurrogate(high), at: highSurrogateOffset)
                }
                appendScalar(0x10000 + ((high - 0xD800) << 10) + (unit - 0xDC00))
            }
        }
    }

    private mutating func completeString() throws(ParseFailure) {
        // Every byte was validated on the way in, so decoding cannot repair anything.
        let string = String(decoding: stringBytes, as: UTF8.self)
        if stringIsKey {
            guard builder.key(string, at: tokenStart) else {
                throw ParseFailure(.duplicateKey(string), at: tokenStart)
            }
            mode = .colon
        } else {
            builder.scalar(.string(string), at: tokenStart)
            valueEnded()
        }
    }

    /// Appends a decoded escape's scalar as UTF-8 and returns to plain text.
    private mutating func appendScalar(_ value: UInt32) {
        switch value {
        case 0..<0x80:
            stringBytes.append(UInt8(value))
        case 0x80..<0x800:
            stringBytes.append(UInt8(0xC0 | value >> 6))
            stringBytes.append(UInt8(0x80 | value & 0x3F))
        case 0x800..<0x10000:
            stringBytes.append(UInt8(0xE0 | value >> 12))
            stringBytes.append(UInt8(0x80 | value >> 6 & 0x3F))
            stringBytes.append(UInt8(0x80 | value & 0x3F))
        default:
            stringBytes.append(UInt8(0xF0 | value >> 18))
            stringBytes.append(UInt8(0x80 | value >> 12 & 0x3F))
            stringBytes.append(UInt8(0x80 | value >> 6 & 0x3F))
            stringBytes.append(UInt8(0x80 | value & 0x3F))
        }
        committedStringBytes = stringBytes.count
        stringState = .plain
    }

    static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }
}
