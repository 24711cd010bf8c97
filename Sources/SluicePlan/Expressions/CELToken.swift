/// A lexical token of CEL source, with its position in Unicode scalars.
struct CELToken: Sendable {
    enum Kind: Sendable, Equatable {
        /// A decimal or hex integer without its sign; its range is checked by the parser, which
        /// knows whether a minus sign precedes it (`-9223372036854775808` is valid, its magnitude is not).
        case int(magnitude: UInt64)
        case uint(UInt64)
        case double(Double)
        case string(String)
        case bytes([UInt8])
        case identifier(String)
        /// A backquoted field name: ``m.`content-type` ``.
        case quotedIdentifier(String)
        case punctuation(String)
        case end
    }

    var kind: Kind
    var range: Range<Int>
}
