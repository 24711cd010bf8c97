public import SluiceJSON

extension PlanSource {
    /// The file position of a character inside the string node at `pointer`.
    ///
    /// Expressions and templates report offsets into their decoded text; this walks the raw
    /// JSON string token (escapes and multi-byte characters included) to find where that
    /// character really is in the file.
    /// - Parameters:
    ///   - pointer: the string node.
    ///   - characterOffset: an offset in Unicode scalars into the decoded string.
    public func location(of pointer: JSONPointer, characterOffset: Int) -> SourceLocation? {
        var cursor: StringCursor?
        return location(of: pointer, characterOffset: characterOffset, cursor: &cursor)
    }

    /// Where the last position was found inside a string token, to go on from there.
    struct StringCursor {
        var pointer: JSONPointer
        var characterOffset: Int
        var location: SourceLocation
    }

    /// ``location(of:characterOffset:)``, walking on from `cursor` when it is in the same
    /// string and not past `characterOffset`, and leaving it at the position found.
    ///
    /// Problems inside one string come in source order, so a string with thousands of them
    /// (a template with 20,000 bad tags) is walked once, not once per problem.
    func location(of pointer: JSONPointer, characterOffset: Int, cursor: inout StringCursor?) -> SourceLocation? {
        guard let start = document.locations[pointer] else { return location(of: pointer) }
        guard bytes.indices.contains(start.offset), bytes[start.offset] == UInt8(ascii: "\"") else {
            return start
        }
        var index = start.offset + 1
        var column = start.column + 1
        var remaining = characterOffset
        if let resumed = cursor, resumed.pointer == pointer, resumed.characterOffset <= characterOffset {
            index = resumed.location.offset
            column = resumed.location.column
            remaining = characterOffset - resumed.characterOffset
        }
        while remaining > 0, index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
            let width = Self.rawWidth(of: bytes, at: index)
            index += width.bytes
            column += width.columns
            remaining -= 1
        }
        let found = SourceLocation(line: start.line, column: column, offset: index)
        // Only a full walk says where `characterOffset` is; a string that ended early does not.
        cursor = remaining == 0 ? StringCursor(pointer: pointer, characterOffset: characterOffset, location: found) : nil
        return found
    }

    /// How many raw bytes and file columns the next decoded scalar of a JSON string takes.
    private static func rawWidth(of bytes: [UInt8], at index: Int) -> (bytes: Int, columns: Int) {
        let byte = bytes[index]
        if byte == UInt8(ascii: "\\") {
            guard index + 1 < bytes.count else { return (1, 1) }
            if bytes[index + 1] == UInt8(ascii: "u") {
                // A high surrogate escape followed by a low one is a single scalar.
                if index + 11 < bytes.count, bytes[index + 6] == UInt8(ascii: "\\"),
                    bytes[index + 7] == UInt8(ascii: "u"), isHighSurrogate(bytes[(index + 2)..<(index + 6)])
                {
                    return (12, 12)
                }
                return (6, 6)
            }
            return (2, 2)
        }
        let length =
            switch byte {
            case 0xF0...: 4
            case 0xE0...: 3
            case 0xC0...: 2
            default: 1
            }
        return (length, 1)
    }

    private static func isHighSurrogate(_ hex: ArraySlice<UInt8>) -> Bool {
        guard let value = UInt32(String(decoding: hex, as: UTF8.self), radix: 16) else { return false }
        return (0xD800...0xDBFF).contains(value)
    }
}
