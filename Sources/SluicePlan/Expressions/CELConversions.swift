/// The standard type conversions: `int()`, `uint()`, `double()`, `string()`, `bytes()`, `bool()`.
enum CELConversions {
    static func toInt(_ value: CELValue) throws(CELError) -> CELValue {
        switch value {
        case .int: return value
        case .uint(let u):
            guard u <= UInt64(Int64.max) else { throw CELError("range error: \(u)u does not fit in an int") }
            return .int(Int64(u))
        case .double(let d):
            // The bounds are exclusive, as in the reference implementation.
            guard d > -9223372036854775808.0, d < 9223372036854775808.0 else {
                throw CELError("range error: \(d) does not fit in an int")
            }
            return .int(Int64(d.rounded(.towardZero)))
        case .string(let s):
            guard let i = Int64(s) else { throw CELError("cannot convert string '\(s)' to int") }
            return .int(i)
        default:
            throw .noOverload("int", [value])
        }
    }

    static func toUInt(_ value: CELValue) throws(CELError) -> CELValue {
        switch value {
        case .uint: return value
        case .int(let i):
            guard i >= 0 else { throw CELError("range error: \(i) does not fit in a uint") }
            return .uint(UInt64(i))
        case .double(let d):
            guard d > -1, d < 18446744073709551616.0 else { throw CELError("range error: \(d) does not fit in a uint") }
            return .uint(UInt64(d.rounded(.towardZero)))
        case .string(let s):
            guard let u = UInt64(s) else { throw CELError("cannot convert string '\(s)' to uint") }
            return .uint(u)
        default:
            throw .noOverload("uint", [value])
        }
    }

    static func toDouble(_ value: CELValue) throws(CELError) -> CELValue {
        switch value {
        case .double: return value
        case .int(let i): return .double(Double(i))
        case .uint(let u): return .double(Double(u))
        case .string(let s):
            guard let d = Double(s) else { throw CELError("cannot convert string '\(s)' to double") }
            return .double(d)
        default:
            throw .noOverload("double", [value])
        }
    }

    static func toString(_ value: CELValue) throws(CELError) -> CELValue {
        switch value {
        case .string: return value
        case .int(let i): return .string(String(i))
        case .uint(let u): return .string(String(u))
        case .double(let d): return .string(formatDouble(d))
        case .bool(let b): return .string(b ? "true" : "false")
        case .bytes(let b):
            guard let s = String(validating: b, as: UTF8.self) else { throw CELError("invalid UTF-8 in bytes converted to string") }
            return .string(s)
        default:
            throw .noOverload("string", [value])
        }
    }

    static func toBytes(_ value: CELValue) throws(CELError) -> CELValue {
        switch value {
        case .bytes: return value
        case .string(let s): return .bytes(Array(s.utf8))
        default: throw .noOverload("bytes", [value])
        }
    }

    static func toBool(_ value: CELValue) throws(CELError) -> CELValue {
        switch value {
        case .bool: return value
        case .string(let s):
            switch s {
            case "1", "t", "true", "TRUE", "True": return .bool(true)
            case "0", "f", "false", "FALSE", "False": return .bool(false)
            default: throw CELError("type conversion error: cannot convert string '\(s)' to bool")
            }
        default:
            throw .noOverload("bool", [value])
        }
    }

    /// A double as `string()` renders it: the shortest text that reads back as the same double, in
    /// the reference implementation's style (Go's `%g`): plain for decimal exponents -4 through 5
    /// (`123.456`, `-0.0045`), exponent form otherwise (`1e+06`, `1.5e-07`).
    static func formatDouble(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Inf" : "+Inf" }
        if d == 0 { return d.sign == .minus ? "-0" : "0" }
        // Swift's description gives the shortest round-tripping digits; take them apart.
        var text = "\(abs(d))"
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...]) ?? 0
            text = String(text[..<e])
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let whole = String(parts[0])
        let fraction = parts.count > 1 ? String(parts[1]) : ""
        var digits = whole + fraction
        var pointPosition = whole.count + exponent  // digits before the decimal point
        while digits.hasPrefix("0") && digits.count > 1 {
            digits.removeFirst()
            pointPosition -= 1
        }
        while digits.hasSuffix("0") && digits.count > 1 { digits.removeLast() }
        let decimalExponent = pointPosition - 1
        let sign = d < 0 ? "-" : ""
        if decimalExponent < -4 || decimalExponent >= 6 {
            let mantissa = digits.count > 1 ? digits.prefix(1) + "." + digits.dropFirst() : digits
            let e = abs(decimalExponent)
            return sign + mantissa + "e" + (decimalExponent < 0 ? "-" : "+") + (e < 10 ? "0" : "") + String(e)
        }
        if pointPosition <= 0 {
            return sign + "0." + String(repeating: "0", count: -pointPosition) + digits
        }
        if pointPosition >= digits.count {
            return sign + digits + String(repeating: "0", count: pointPosition - digits.count)
        }
        let split = digits.index(digits.startIndex, offsetBy: pointPosition)
        return sign + digits[..<split] + "." + digits[split...]
    }
}
