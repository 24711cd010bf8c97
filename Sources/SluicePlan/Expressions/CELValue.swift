/// A CEL runtime value.
///
/// `Hashable` here is strict identity of kind and value (`int 1` and `uint 1` differ, NaN equals
/// NaN, strings compare by code points) so values can key Swift collections and tests can compare
/// results exactly. CEL's own `==` (cross-type numeric equality, NaN unequal to itself) is
/// ``celEquals(_:)``.
public enum CELValue: Sendable {
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case string(String)
    case bytes([UInt8])
    case bool(Bool)
    case null
    case list([CELValue])
    case map(CELMap)
    /// A type value, named as CEL names it: `int`, `uint`, `double`, `bool`, `string`, `bytes`,
    /// `list`, `map`, `null_type`, `type`.
    case type(String)
}

extension CELValue {
    /// The CEL type name of this value, as `type(x)` reports it.
    public var typeName: String {
        switch self {
        case .int: "int"
        case .uint: "uint"
        case .double: "double"
        case .string: "string"
        case .bytes: "bytes"
        case .bool: "bool"
        case .null: "null_type"
        case .list: "list"
        case .map: "map"
        case .type: "type"
        }
    }

    public var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }
    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    public var listValue: [CELValue]? { if case .list(let l) = self { l } else { nil } }
    public var mapValue: CELMap? { if case .map(let m) = self { m } else { nil } }
}

extension CELValue: Hashable {
    public static func == (lhs: CELValue, rhs: CELValue) -> Bool {
        switch (lhs, rhs) {
        case (.int(let a), .int(let b)): a == b
        case (.uint(let a), .uint(let b)): a == b
        case (.double(let a), .double(let b)): a == b || (a.isNaN && b.isNaN)
        case (.string(let a), .string(let b)): a.utf8.elementsEqual(b.utf8)
        case (.bytes(let a), .bytes(let b)): a == b
        case (.bool(let a), .bool(let b)): a == b
        case (.null, .null): true
        case (.list(let a), .list(let b)): a == b
        case (.map(let a), .map(let b)): a == b
        case (.type(let a), .type(let b)): a == b
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .int(let i): hasher.combine(0); hasher.combine(i)
        case .uint(let u): hasher.combine(1); hasher.combine(u)
        case .double(let d): hasher.combine(2); hasher.combine(d.isNaN ? Double.nan.bitPattern : (d == 0 ? 0 : d.bitPattern))
        case .string(let s): hasher.combine(3); for byte in s.utf8 { hasher.combine(byte) }
        case .bytes(let b): hasher.combine(4); hasher.combine(b)
        case .bool(let b): hasher.combine(5); hasher.combine(b)
        case .null: hasher.combine(6)
        case .list(let l): hasher.combine(7); hasher.combine(l)
        case .map(let m): hasher.combine(8); hasher.combine(m)
        case .type(let t): hasher.combine(9); hasher.combine(t)
        }
    }
}

extension CELValue: CustomStringConvertible {
    /// A CEL-like rendering, for messages and test failures.
    public var description: String {
        switch self {
        case .int(let i): "\(i)"
        case .uint(let u): "\(u)u"
        case .double(let d): "\(d)"
        case .string(let s): "\"\(s)\""
        case .bytes(let b): "b\"" + b.map { $0 >= 0x20 && $0 < 0x7f && $0 != 0x22 && $0 != 0x5c ? String(UnicodeScalar($0)) : "\\x" + hex($0) }.joined() + "\""
        case .bool(let b): "\(b)"
        case .null: "null"
        case .list(let l): "[" + l.map(\.description).joined(separator: ", ") + "]"
        case .map(let m): "{" + m.entries.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
        case .type(let t): t
        }
    }
}

private func hex(_ byte: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0xf)]])
}

extension CELValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: CELValue...) { self = .list(elements) }
    public init(dictionaryLiteral elements: (CELValue, CELValue)...) { self = .map(CELMap(elements)) }
}
