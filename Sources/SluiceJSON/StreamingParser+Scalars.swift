/// Numbers and the literals `true`, `false`, `null`, read byte by byte across chunks.
extension StreamingParser {
    /// Where a number's text is in the JSON grammar.
    enum NumberState {
        case sign, zero, integer, point, fraction, exponentMark, exponentSign, exponent

        /// Whether the text so far is a whole number token.
        var isComplete: Bool {
            switch self {
            case .zero, .integer, .fraction, .exponent: true
            case .sign, .point, .exponentMark, .exponentSign: false
            }
        }

        /// What an incomplete number needs next, for messages.
        var expectation: String {
            switch self {
            case .sign: "expected a digit after '-'"
            case .point: "expected a digit after '.'"
            default: "expected a digit in the exponent"
            }
        }
    }

    enum Literal {
        case `true`, `false`, null

        var text: String {
            switch self {
            case .true: "true"
            case .false: "false"
            case .null: "null"
            }
        }

        var bytes: StaticString {
            switch self {
            case .true: "true"
            case .false: "false"
            case .null: "null"
            }
        }

        var value: JSONValue {
            switch self {
            case .true: .bool(true)
            case .false: .bool(false)
            case .null: .null
            }
        }
    }

    mutating func startNumber(_ first: UInt8, at offset: Int) {
        mode = .number
        tokenStart = offset
        numberBytes.removeAll(keepingCapacity: true)
        numberBytes.append(first)
        switch first {
        case UInt8(ascii: "-"): numberState = .sign
        case UInt8(ascii: "0"): numberState = .zero
        default: numberState = .integer
        }
    }

    mutating func consumeNumber(_ chunk: UnsafeBufferPointer<UInt8>, _ index: inout Int, base: Int) throws(ParseFailure) {
        while index < chunk.count {
            let byte = chunk[index]
            let isDigit = byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
            let next: NumberState?
            switch numberState {
            case .sign: next = byte == UInt8(ascii: "0") ? .zero : (isDigit ? .integer : nil)
            case .zero:
                if isDigit { throw ParseFailure(.leadingZero, at: tokenStart) }
                next = Self.afterIntegerDigits(byte)
            case .integer: next = isDigit ? .integer : Self.afterIntegerDigits(byte)
            case .point: next = isDigit ? .fraction : nil
            case .fraction: next = isDigit ? .fraction : (byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") ? .exponentMark : nil)
            case .exponentMark:
                next = isDigit ? .exponent : (byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") ? .exponentSign : nil)
            case .exponentSign: next = isDigit ? .exponent : nil
            case .exponent: next = isDigit ? .exponent : nil
            }
            guard let next else {
                // The number ends here; the byte belongs to whatever follows.
                guard numberState.isComplete else {
                    throw ParseFailure(.invalidNumber(numberState.expectation), at: base + index)
                }
                try completeNumber()
                return
            }
            numberState = next
            numberBytes.append(byte)
            index += 1
        }
    }

    private static func afterIntegerDigits(_ byte: UInt8) -> NumberState? {
        switch byte {
        case UInt8(ascii: "."): .point
        case UInt8(ascii: "e"), UInt8(ascii: "E"): .exponentMark
        default: nil
        }
    }

    mutating func completeNumber() throws(ParseFailure) {
        let value = numberBytes.withUnsafeBufferPointer { JSONNumber.value(from: $0) }
        guard let value else {
            throw ParseFailure(.numberOutOfRange(String(decoding: numberBytes, as: UTF8.self)), at: tokenStart)
        }
        builder.scalar(value, at: tokenStart)
        valueEnded()
    }

    mutating func startLiteral(_ literal: Literal, at offset: Int) {
        mode = .literal
        tokenStart = offset
        self.literal = literal
        literalMatched = 1
    }

    mutating func consumeLiteral(_ chunk: UnsafeBufferPointer<UInt8>, _ index: inout Int, base: Int) throws(ParseFailure) {
        let expected = literal.bytes
        while index < chunk.count {
            guard chunk[index] == expected.utf8Start[literalMatched] else {
                throw ParseFailure(.invalidLiteral(literal.text), at: tokenStart)
            }
            index += 1
            literalMatched += 1
            if literalMatched == expected.utf8CodeUnitCount {
                builder.scalar(literal.value, at: tokenStart)
                valueEnded()
                return
            }
        }
    }
}
