/// A problem with a CEL expression: a syntax error, a static type error or an evaluation failure.
///
/// `offset` is a position in the expression's source counted in characters (Swift `Character`s,
/// as the rest of Sluice counts columns), so a caller that knows where the expression sits in a
/// file can turn it into a line and column.
public struct CELError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, for people.
    public var message: String
    /// Where in the source, when known.
    public var offset: Int?
    /// Set when evaluation stopped at a resource limit; `&&`, `||` and macros never absorb these.
    public internal(set) var isResourceLimit = false

    public init(_ message: String, offset: Int? = nil) {
        self.message = message
        self.offset = offset
    }

    public var description: String {
        if let offset { "\(message) (at offset \(offset))" } else { message }
    }

    /// The same error, placed at `offset` unless it already has a position.
    func located(at offset: Int) -> CELError {
        var copy = self
        if copy.offset == nil { copy.offset = offset }
        return copy
    }
}
