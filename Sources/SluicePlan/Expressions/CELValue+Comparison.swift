extension CELValue {
    /// CEL's `==`: numbers compare across `int`, `uint` and `double` by value (NaN equals nothing),
    /// lists element-wise, maps as sets of entries, and values of different kinds are unequal.
    public func celEquals(_ other: CELValue) -> Bool {
        switch (self, other) {
        case (.list(let a), .list(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.celEquals($1) }
        case (.map(let a), .map(let b)):
            guard a.count == b.count else { return false }
            for (key, value) in a.entries {
                guard let otherValue = b[key], value.celEquals(otherValue) else { return false }
            }
            return true
        case (.int, _), (.uint, _), (.double, _):
            guard let order = numericOrder(self, other) else { return false }
            return order == 0
        default:
            return self == other
        }
    }
}

/// The order of two numbers of any numeric kinds: -1, 0 or 1; nil when either is NaN or either
/// is not a number. Mixed comparisons follow the reference implementation (cel-go): int and uint
/// exactly, int or uint against double through the double, after range checks.
func numericOrder(_ a: CELValue, _ b: CELValue) -> Int? {
    func sign<T: Comparable>(_ x: T, _ y: T) -> Int { x < y ? -1 : (x > y ? 1 : 0) }
    func doubles(_ x: Double, _ y: Double) -> Int? { x.isNaN || y.isNaN ? nil : sign(x, y) }
    func intDouble(_ i: Int64, _ d: Double) -> Int? {
        if d.isNaN { return nil }
        if d < -9223372036854775808.0 { return 1 }
        if d > 9223372036854775807.0 { return -1 }
        return doubles(Double(i), d)
    }
    func uintDouble(_ u: UInt64, _ d: Double) -> Int? {
        if d.isNaN { return nil }
        if d < 0 { return 1 }
        if d > 18446744073709551615.0 { return -1 }
        return doubles(Double(u), d)
    }
    switch (a, b) {
    case (.int(let x), .int(let y)): return sign(x, y)
    case (.uint(let x), .uint(let y)): return sign(x, y)
    case (.double(let x), .double(let y)): return doubles(x, y)
    case (.int(let x), .uint(let y)): return x < 0 ? -1 : sign(UInt64(x), y)
    case (.uint(let x), .int(let y)): return y < 0 ? 1 : sign(x, UInt64(y))
    case (.int(let x), .double(let y)): return intDouble(x, y)
    case (.double(let x), .int(let y)): return intDouble(y, x).map { -$0 }
    case (.uint(let x), .double(let y)): return uintDouble(x, y)
    case (.double(let x), .uint(let y)): return uintDouble(y, x).map { -$0 }
    default: return nil
    }
}

/// The order of two values for `<`, `<=`, `>`, `>=`.
/// - Returns: nil when the values are ordered but incomparable (a NaN).
/// - Throws: when CEL defines no ordering between these kinds.
func celOrder(_ a: CELValue, _ b: CELValue, _ op: CELBinaryOperator) throws(CELError) -> Int? {
    switch (a, b) {
    case (.int, .int), (.int, .uint), (.int, .double), (.uint, .int), (.uint, .uint), (.uint, .double),
        (.double, .int), (.double, .uint), (.double, .double):
        return numericOrder(a, b)
    case (.string(let x), .string(let y)):
        // UTF-8 byte order is code point order.
        return x.utf8.lexicographicallyPrecedes(y.utf8) ? -1 : (x.utf8.elementsEqual(y.utf8) ? 0 : 1)
    case (.bytes(let x), .bytes(let y)):
        return x.lexicographicallyPrecedes(y) ? -1 : (x == y ? 0 : 1)
    case (.bool(let x), .bool(let y)):
        return x == y ? 0 : (x ? 1 : -1)
    default:
        throw .noOverload(op.rawValue, [a, b])
    }
}

extension CELError {
    /// The error CEL reports when no overload of a function or operator takes these arguments.
    static func noOverload(_ function: String, _ arguments: [CELValue]) -> CELError {
        CELError("no matching overload for '\(function)' applied to (\(arguments.map(\.typeName).joined(separator: ", ")))")
    }
}
