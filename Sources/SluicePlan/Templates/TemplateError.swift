/// A template that cannot be compiled: what is wrong and where.
///
/// Positions count `Character`s (extended grapheme clusters), the way a person counts them,
/// so an accented letter or an emoji is one column. `"\n"`, `"\r\n"` and `"\r"` each end a line.
public struct TemplateError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong, for a person (`"section 'items' is never closed"`).
    public var message: String
    /// Characters from the start of the template to the problem.
    public var offset: Int
    /// The problem's line in the template, from 1.
    public var line: Int
    /// The problem's column in its line, from 1.
    public var column: Int

    public init(message: String, offset: Int, line: Int, column: Int) {
        self.message = message
        self.offset = offset
        self.line = line
        self.column = column
    }

    /// `line:column: message`, ready to be prefixed with where the template lives.
    public var description: String { "\(line):\(column): \(message)" }
}

extension TemplateError {
    /// An error at `offset` in `characters`, with its line and column worked out.
    init(_ message: String, at offset: Int, in characters: [Character]) {
        let clamped = min(max(offset, 0), characters.count)
        var line = 1
        var lineStart = 0
        for index in 0..<clamped where Self.isLineBreak(characters[index]) {
            line += 1
            lineStart = index + 1
        }
        self.init(message: message, offset: clamped, line: line, column: clamped - lineStart + 1)
    }

    static func isLineBreak(_ character: Character) -> Bool {
        character == "\n" || character == "\r\n" || character == "\r"
    }
}
