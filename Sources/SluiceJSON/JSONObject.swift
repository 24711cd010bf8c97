/// A JSON object: members in the order the document wrote them, with keyed lookup.
///
/// Keys are unique: setting an existing key replaces its value in place. Parsers that must
/// reject duplicate keys do so before building the object (see `JSONParser.Options`).
///
/// Most objects are small (a search result, a section, an event), so members are kept in one
/// array and found by scanning it; a hash index is added only once an object grows past
/// ``indexThreshold`` members. A run holds thousands of objects, and a dictionary per object
/// would cost more memory than the members themselves.
public struct JSONObject: Sendable {
    /// The members in document order.
    public private(set) var members: [(key: String, value: JSONValue)] = []
    /// Member positions by key; only for objects of more than ``indexThreshold`` members.
    private var index: [String: Int]?

    /// The member count above which lookups use a hash index instead of a scan.
    static let indexThreshold = 12

    public init() {}

    /// Builds an object from members in order; a repeated key keeps its first position and last value.
    public init(_ members: some Sequence<(String, JSONValue)>) {
        self.members.reserveCapacity(members.underestimatedCount)
        for (key, value) in members { self[key] = value }
    }

    /// Makes room for `count` members in all (no more: most objects never grow after they are built).
    public mutating func reserveCapacity(_ count: Int) {
        members.reserveCapacity(count)
    }

    /// Gives back the room appending left unused: an object that is done growing (a parsed
    /// one, say) then takes only what its members need.
    public mutating func trimCapacity() {
        members = members.withoutSpareCapacity()
    }

    public var count: Int { members.count }
    public var isEmpty: Bool { members.isEmpty }

    /// The keys in document order.
    public var keys: [String] { members.map(\.key) }

    public var values: [JSONValue] { members.map(\.value) }

    public subscript(key: String) -> JSONValue? {
        get { position(of: key).map { members[$0].value } }
        set {
            if let newValue {
                if let position = position(of: key) {
                    members[position].value = newValue
                } else {
                    members.append((key, newValue))
                    if index != nil {
                        index?[key] = members.count - 1
                    } else if members.count > Self.indexThreshold {
                        buildIndex()
                    }
                }
            } else if let position = position(of: key) {
                members.remove(at: position)
                if index != nil { buildIndex() }
            }
        }
    }

    private func position(of key: String) -> Int? {
        if let index { return index[key] }
        return members.firstIndex { $0.key == key }
    }

    private mutating func buildIndex() {
        var positions: [String: Int] = [:]
        positions.reserveCapacity(members.count)
        for (position, member) in members.enumerated() { positions[member.key] = position }
        index = positions
    }
}

extension JSONObject: Sequence {
    public func makeIterator() -> IndexingIterator<[(key: String, value: JSONValue)]> {
        members.makeIterator()
    }
}

extension JSONObject: Equatable {
    /// Objects are equal when they have the same members, whatever their order.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for (key, value) in lhs.members {
            guard let other = rhs[key], other == value else { return false }
        }
        return true
    }
}

extension JSONObject: Hashable {
    public func hash(into hasher: inout Hasher) {
        // Order-independent, to agree with ==.
        var combined = 0
        for (key, value) in members {
            var h = Hasher()
            h.combine(key)
            h.combine(value)
            combined ^= h.finalize()
        }
        hasher.combine(members.count)
        hasher.combine(combined)
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements)
    }
}

extension JSONValue: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(elements))
    }
}

extension Array {
    /// The same elements in a buffer of just their size (self when little room is spare).
    func withoutSpareCapacity() -> [Element] {
        guard capacity > count + 1 else { return self }
        var exact: [Element] = []
        exact.reserveCapacity(count)
        exact.append(contentsOf: self)
        return exact
    }
}
