/// A CEL map: entries in insertion order, looked up by CEL key equality.
///
/// Keys are `bool`, `int`, `uint` or `string`. Numeric keys are found across types as CEL requires
/// (`{1u: "a"}[1]` and `[1.0]` both find the entry), and two keys that are equal that way are the
/// same key. The order is kept so that maps built from JSON objects turn back into the same JSON.
public struct CELMap: Sendable {
    public private(set) var entries: [(key: CELValue, value: CELValue)] = []
    private var index: [NormalKey: Int] = [:]

    public init() {}

    /// Builds a map; a repeated key keeps its first position and takes the last value.
    public init(_ entries: some Sequence<(CELValue, CELValue)>) {
        for (key, value) in entries { _ = insert(key, value) }
    }

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }
    public var keys: [CELValue] { entries.map(\.key) }

    /// The value for `key`, using CEL's cross-type numeric key equality; nil when absent or when
    /// `key` cannot be a map key.
    public subscript(key: CELValue) -> CELValue? {
        guard let normal = NormalKey(lookup: key), let position = index[normal] else { return nil }
        return entries[position].value
    }

    public subscript(key: String) -> CELValue? { self[.string(key)] }

    /// Adds or replaces an entry.
    /// - Returns: false when `key` was already present (its value is replaced).
    /// - Precondition: `key` is a valid map key (see ``isValidKey(_:)``); others are ignored.
    @discardableResult
    public mutating func insert(_ key: CELValue, _ value: CELValue) -> Bool {
        guard let normal = NormalKey(lookup: key) else { return false }
        if let position = index[normal] {
            entries[position].value = value
            return false
        }
        index[normal] = entries.count
        entries.append((key, value))
        return true
    }

    /// Whether CEL allows `value` as a map key (bool, int, uint, string).
    public static func isValidKey(_ value: CELValue) -> Bool {
        switch value {
        case .bool, .int, .uint, .string: true
        default: false
        }
    }

    /// A key normalised so that numerically equal int, uint and whole double keys coincide.
    private enum NormalKey: Hashable {
        case bool(Bool)
        case number(Int128)
        case string([UInt8])

        init?(lookup value: CELValue) {
            switch value {
            case .bool(let b): self = .bool(b)
            case .int(let i): self = .number(Int128(i))
            case .uint(let u): self = .number(Int128(u))
            case .double(let d):
                // Only a whole double in the uint/int range can equal an integer key.
                guard d.isFinite, d == d.rounded(.towardZero), d >= -9.3e18, d < 1.85e19 else { return nil }
                self = .number(Int128(d))
            case .string(let s): self = .string(Array(s.utf8))
            default: return nil
            }
        }
    }
}

extension CELMap: Hashable {
    /// Maps are equal when they have the same entries (strictly, by ``CELValue`` `==`), in any order.
    public static func == (lhs: CELMap, rhs: CELMap) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for (key, value) in lhs.entries {
            guard let normal = NormalKey(lookup: key), let position = rhs.index[normal],
                rhs.entries[position].key == key, rhs.entries[position].value == value
            else { return false }
        }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        // Order-independent, to agree with ==.
        var combined = 0
        for (key, value) in entries {
            var h = Hasher()
            h.combine(key)
            h.combine(value)
            combined ^= h.finalize()
        }
        hasher.combine(count)
        hasher.combine(combined)
    }
}

extension CELMap: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (CELValue, CELValue)...) {
        self.init(elements)
    }
}
