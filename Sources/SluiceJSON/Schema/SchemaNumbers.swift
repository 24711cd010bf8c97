/// Exact comparisons of JSON numbers, whether they were read as integers or doubles.
enum SchemaNumbers {
    /// -1, 0 or 1 as `a` is below, equal to or above `b`; `nil` when either is not a number.
    static func compare(_ a: JSONValue, _ b: JSONValue) -> Int? {
        switch (a, b) {
        case (.integer(let x), .integer(let y)): return x < y ? -1 : (x == y ? 0 : 1)
        case (.double(let x), .double(let y)): return x < y ? -1 : (x == y ? 0 : 1)
        case (.integer(let x), .double(let y)): return compare(x, y)
        case (.double(let x), .integer(let y)): return -compare(y, x)
        default: return nil
        }
    }

    /// Compares an integer with a double without rounding the integer to a double.
    private static func compare(_ integer: Int64, _ double: Double) -> Int {
        if double.isNaN { return 0 }
        if double >= 9.223372036854775808e18 { return -1 }
        if double < -9.223372036854775808e18 { return 1 }
        let whole = double.rounded(.down)
        let wholeInteger = Int64(whole)
        if integer != wholeInteger { return integer < wholeInteger ? -1 : 1 }
        return whole == double ? 0 : -1
    }

    /// Whether `value` is an integer multiple of `divisor` (which is > 0).
    static func isMultiple(_ value: JSONValue, of divisor: JSONValue) -> Bool {
        if case .integer(let x) = value, case .integer(let y) = divisor {
            return x % y == 0
        }
        guard let x = value.doubleValue, let y = divisor.doubleValue, y > 0 else { return false }
        let quotient = x / y
        // A quotient too large for a double: the remainder is exact, and can still be asked.
        guard quotient.isFinite else { return x.truncatingRemainder(dividingBy: y) == 0 }
        // Decimal divisors such as 0.01 have no exact binary form: allow for the rounding.
        return abs(quotient - quotient.rounded()) < 1e-9
    }
}
