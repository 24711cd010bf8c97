/// JSON Schema's equality for `const`, `enum` and `uniqueItems`.
///
/// Like `JSONValue ==` (numbers by value, objects regardless of order), except that strings
/// compare by Unicode code points: Swift's `String ==` treats canonically equivalent strings
/// ("é" and "e" + combining acute) as equal, JSON Schema does not.
enum SchemaEquality {
    static func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.string(let x), .string(let y)):
            return x.unicodeScalars.elementsEqual(y.unicodeScalars)
        case (.array(let x), .array(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        case (.object(let x), .object(let y)):
            guard x.count == y.count else { return false }
            for key in x.keys {
                guard let left = x[key], let right = y[key], same(left, right) else { return false }
            }
            return true
        default:
            return a == b
        }
    }

    /// The first pair of equal elements. Hashing narrows the candidates (`JSONValue`'s hash
    /// agrees with canonical equivalence, which is coarser than code-point equality).
    static func firstDuplicate(_ elements: [JSONValue]) -> (Int, Int)? {
        guard elements.count > 1 else { return nil }
        var seen: [JSONValue: [Int]] = [:]
        seen.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            if let earlier = seen[element]?.first(where: { same(elements[$0], element) }) {
                return (earlier, index)
            }
            seen[element, default: []].append(index)
        }
        return nil
    }
}
