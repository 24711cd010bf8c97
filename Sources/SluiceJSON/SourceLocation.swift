/// A position in a source document.
///
/// Lines and columns are 1-based. Columns count `Character`s (grapheme clusters), not bytes,
/// so an editor puts the caret where the message says even after multibyte text.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    /// The 0-based byte offset of the position in the UTF-8 input.
    public var offset: Int

    public init(line: Int, column: Int, offset: Int) {
        self.line = line
        self.column = column
        self.offset = offset
    }

    /// `line:column`, the form compilers and editors use.
    public var description: String { "\(line):\(column)" }

    /// The location of byte `offset` in `bytes` (an offset past the end means the end of input).
    public static func of(offset: Int, in bytes: some Collection<UInt8>) -> SourceLocation {
        let contiguous = Array(bytes)
        return contiguous.withUnsafeBufferPointer { buffer in
            var tracker = LocationTracker()
            return tracker.advance(to: offset, in: buffer)
        }
    }
}

/// Turns increasing byte offsets into line:column positions, reading every byte once.
///
/// Lines end at `\n`. Columns count `Character`s; runs of pure ASCII are counted without
/// building a `String`, which keeps locating every node of a document linear and cheap.
struct LocationTracker {
    private(set) var offset = 0
    private(set) var line = 1
    private(set) var column = 1

    mutating func advance(to target: Int, in bytes: UnsafeBufferPointer<UInt8>) -> SourceLocation {
        let target = min(max(target, 0), bytes.count)
        if target < offset { self = LocationTracker() }
        var segmentStart = offset
        var segmentIsASCII = true
        var index = offset
        while index < target {
            let byte = bytes[index]
            if byte == 0x0A {
                // The newline itself ends the line; it never counts as a column of the next one.
                line += 1
                column = 1
                segmentStart = index + 1
                segmentIsASCII = true
            } else if byte >= 0x80 {
                segmentIsASCII = false
            }
            index += 1
        }
        if segmentStart < target {
            if segmentIsASCII {
                column += target - segmentStart
            } else {
                let segment = UnsafeBufferPointer(rebasing: bytes[segmentStart..<target])
                column += String(decoding: segment, as: UTF8.self).count
            }
        }
        offset = target
        return SourceLocation(line: line, column: column, offset: target)
    }
}
