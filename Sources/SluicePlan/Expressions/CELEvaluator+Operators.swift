extension CELEvaluator {
    /// Unary minus: int (overflow-checked) and double only.
    func negate(_ value: CELValue) throws(CELError) -> CELValue {
        switch value {
        case .int(let i):
            guard i != .min else { throw CELError("integer overflow in negation") }
            return .int(-i)
        case .double(let d): return .double(-d)
        default: throw .noOverload("-", [value])
        }
    }

    mutating func binary(_ op: CELBinaryOperator, _ a: CELValue, _ b: CELValue) throws(CELError) -> CELValue {
        switch op {
        case .equal: return .bool(a.celEquals(b))
        case .notEqual: return .bool(!a.celEquals(b))
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            guard let order = try celOrder(a, b, op) else { return .bool(false) }
            switch op {
            case .less: return .bool(order < 0)
            case .lessOrEqual: return .bool(order <= 0)
            case .greater: return .bool(order > 0)
            default: return .bool(order >= 0)
            }
        case .in:
            return try membership(a, in: b)
        case .add, .subtract, .multiply, .divide, .remainder:
            return try arithmetic(op, a, b)
        }
    }

    private mutating func membership(_ element: CELValue, in container: CELValue) throws(CELError) -> CELValue {
        switch container {
        case .list(let list):
            try charge(list.count)
            return .bool(list.contains { element.celEquals($0) })
        case .map(let map):
            return .bool(map[element] != nil)
        default:
            throw .noOverload("in", [element, container])
        }
    }

    private mutating func arithmetic(_ op: CELBinaryOperator, _ a: CELValue, _ b: CELValue) throws(CELError) -> CELValue {
        switch (a, b) {
        case (.int(let x), .int(let y)):
            return .int(try integer(op, x, y))
        case (.uint(let x), .uint(let y)):
            return .uint(try integer(op, x, y))
        case (.double(let x), .double(let y)):
            switch op {
            case .add: return .double(x + y)
            case .subtract: return .double(x - y)
            case .multiply: return .double(x * y)
            case .divide: return .double(x / y)
            default: break
            }
        case (.string(let x), .string(let y)) where op == .add:
            try charge(x.utf8.count + y.utf8.count)
            return .string(x + y)
        case (.bytes(let x), .bytes(let y)) where op == .add:
            try charge(x.count + y.count)
            return .bytes(x + y)
        case (.list(let x), .list(let y)) where op == .add:
            try charge(x.count + y.count)
            return .list(x + y)
        default:
            break
        }
        throw .noOverload(op.rawValue, [a, b])
    }

    /// Integer arithmetic with CEL's errors: overflow, division and modulus by zero.
    private func integer<T: FixedWidthInteger>(_ op: CELBinaryOperator, _ x: T, _ y: T) throws(CELError) -> T {
        let result: (partialValue: T, overflow: Bool)
        switch op {
        case .add: result = x.addingReportingOverflow(y)
        case .subtract: result = x.subtractingReportingOverflow(y)
        case .multiply: result = x.multipliedReportingOverflow(by: y)
        case .divide:
            guard y != 0 else { throw CELError("division by zero") }
            result = x.dividedReportingOverflow(by: y)
        default:
            guard y != 0 else { throw CELError("modulus by zero") }
            result = x.remainderReportingOverflow(dividingBy: y)
        }
        guard !result.overflow else { throw CELError("integer overflow in '\(op.rawValue)'") }
        return result.partialValue
    }
}
