/// A CEL map: entries in insertion order, looked up by CEL key equality.
///
/// Keys are `bool`, `int`, `uint` or `string`. Numeric keys are found across types as CEL requires
/// (`{1u: "a"}[1]` and `[1.0]` both find the entry), and two keys that are equal that way are the
/// same key. The order is kept so that maps built from JSON objects turn back into the same JSON.
///
/// Like `JSONObject`, a small map is scanned and only a large one gets a hash index: a run's
/// context holds thousands of small maps (every JSON object a step produced).
public struct CELMap: Sendable {
    public private(set) var entries: [(key: CELValue, value: CELValue)] = []
    /// Entry positions by normalised key; only for maps of more than ``indexThreshold`` entries.
    private var index: [NormalKey: Int]?

    /// The entry count above which lookups use a hash index instead of a scan.
    static let indexThreshold = 12

    public init() {}

    /// Builds a map; a repeated key keeps its first position and takes the last value.
    public init(_ entries: some Sequence<(CELValue, CELValue)>) {
        self.entries.reserveCapacity(entries.underestimatedCount)
        for (key, value) in entries { _ = insert(key, value) }
    }

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }
    public var keys: [CELValue] { entries.map(\.key) }

    /// The value for `key`, using CEL's cross-type numeric key equality; nil when absent or when
    /// `key` cannot be a map key.
    public subscript(key: CELValue) -> CELValue? {
        guard let normal = NormalKey(lookup: key), let position = position(of: normal) else { return nil }
        return entries[position].value
    }

    public subscript(key: String) -> CELValue? {
        guard let position = position(of: .string(key)) else { return nil }
        return entries[position].value
    }

    /// Adds or replaces an entry.
    /// - Returns: false when `key` was already present (its value is replaced).
    /// - Precondition: `key` is a valid map key (see ``isValidKey(_:)``); others are ignored.
    @discardableResult
    public mutating func insert(_ key: CELValue, _ value: CELValue) -> Bool {
        guard let normal = NormalKey(lookup: key) else { return false }
        if let position = position(of: normal) {
            entries[position].value = value
            return false
        }
        entries.append((key, value))
        if index != nil {
            index?[normal] = entries.count - 1
        } else if entries.count > Self.indexThreshold {
            var positions: [NormalKey: Int] = [:]
            positions.reserveCapacity(entries.count)
            for (position, entry) in entries.enumerated() {
                if let key = NormalKey(lookup: entry.key) { positions[key] = position }
            }
            index = positions
        }
        return true
    }

    private func position(of key: NormalKey) -> Int? {
        if let index { return index[key] }
        return entries.firstIndex { key.matches($0.key) }
    }

    /// Whether CEL allows `value` as a map key (bool, int, uint, string).
    public static func isValidKey(_ value: CELValue) -> Bool {
        switch value {
        case .bool, .int, .uint, .string: true
        default: false
        }
    }

    /// A key normalised so that numerically equal int, uint and whole double keys coincide.
    /// Strings compare and hash by their UTF-8 bytes (CEL compares code points, not Unicode
    /// canonical equivalence as Swift's `String ==` does).
    private enum NormalKey: Hashable {
        case bool(Bool)
        case number(Int128)
        case string(String)

        init?(lookup value: CELValue) {
            switch value {
            case .bool(let b): self = .bool(b)
            case .int(let i): self = .number(Int128(i))
            case .uint(let u): self = .number(Int128(u))
            case .double(let d):
                // Only a whole double in the uint/int range can equal an integer key.
                guard d.isFinite, d == d.rounded(.towardZero), d >= -9.3e18, d < 1.85e19 else { return nil }
                self = .number(Int128(d))
            case .string(let s): self = .string(s)
            default: return nil
            }
        }

        /// Whether the stored key `key` is this key (without normalising it first).
        func matches(_ key: CELValue) -> Bool {
            switch (self, key) {
            case (.string(let a), .string(let b)): a.utf8.elementsEqual(b.utf8)
            case (.string, _), (_, .string): false
            default: NormalKey(lookup: key) == self
            }
        }

        static func == (lhs: NormalKey, rhs: NormalKey) -> Bool {
            switch (lhs, rhs) {
            case (.bool(let a), .bool(let b)): a == b
            case (.number(let a), .number(let b)): a == b
            case (.string(let a), .string(let b)): a.utf8.elementsEqual(b.utf8)
            default: false
            }
        }

        func hash(into hasher: inout Hasher) {
            switch self {
            case .bool(let b):
                hasher.combine(0)
                hasher.combine(b)
            case .number(let n):
                hasher.combine(1)
                hasher.combine(n)
            case .string(let s):
                hasher.combine(2)
                for byte in s.utf8 { hasher.combine(byte) }
            }
        }
    }
}

extension CELMap: Hashable {
    /// Maps are equal when they have the same entries (strictly, by ``CELValue`` `==`), in any order.
    public static func == (lhs: CELMap, rhs: CELMap) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for (key, value) in lhs.entries {
            guard let normal = NormalKey(lookup: key), let position = rhs.position(of: normal),
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
