/// Walks a parsed expression and computes its value.
///
/// Errors follow CEL: they propagate as values would, except that `&&`, `||` and the `all` and
/// `exists` macros absorb an error (or a non-bool) when another operand decides the result. Every
/// step is charged against a cost budget, so no expression can run away with time or memory.
struct CELEvaluator {
    private let bindings: [String: CELValue]
    /// Whether any binding has a dotted name (`a.b.c`), which makes select chains try qualified names.
    private let hasQualifiedBindings: Bool
    /// Comprehension variables in scope, innermost last.
    private var locals: [(name: String, value: CELValue)] = []
    private var cost = 0
    private let maxCost: Int

    init(bindings: [String: CELValue], maxCost: Int) {
        self.bindings = bindings
        self.hasQualifiedBindings = bindings.keys.contains { $0.contains(".") }
        self.maxCost = maxCost
    }

    /// Charges `amount` units of work against the budget.
    mutating func charge(_ amount: Int) throws(CELError) {
        cost += amount
        guard cost <= maxCost else {
            var error = CELError("evaluation exceeded its cost limit (\(maxCost)); the expression does too much work")
            error.isResourceLimit = true
            throw error
        }
    }

    mutating func evaluate(_ node: CELNode) throws(CELError) -> CELValue {
        do throws(CELError) {
            try charge(1)
            return try evaluateKind(node)
        } catch {
            throw error.located(at: node.range.lowerBound)
        }
    }

    private mutating func evaluateKind(_ node: CELNode) throws(CELError) -> CELValue {
        switch node.kind {
        case .literal(let value):
            return value
        case .identifier(let name):
            return try resolve(name)
        case .select(let operand, let field):
            if let value = try resolveQualified(node) { return value }
            return try select(field, from: try evaluate(operand))
        case .presence(let operand, let field):
            let target = try evaluate(operand)
            guard case .map(let map) = target else {
                throw CELError("has() cannot test field '\(field)' on a value of type \(target.typeName)")
            }
            return .bool(map[field] != nil)
        case .index(let operand, let index):
            return try self.index(try evaluate(operand), try evaluate(index))
        case .call(let name, let arguments):
            var values: [CELValue] = []
            for argument in arguments { values.append(try evaluate(argument)) }
            return try callGlobal(name, values)
        case .method(let target, let name, let arguments):
            let receiver = try evaluate(target)
            var values: [CELValue] = []
            for argument in arguments { values.append(try evaluate(argument)) }
            return try callMethod(name, on: receiver, values)
        case .list(let elements):
            var values: [CELValue] = []
            values.reserveCapacity(elements.count)
            for element in elements { values.append(try evaluate(element)) }
            return .list(values)
        case .map(let entries):
            var map = CELMap()
            for (keyNode, valueNode) in entries {
                let key = try evaluate(keyNode)
                guard CELMap.isValidKey(key) else {
                    throw CELError("unsupported key type \(key.typeName) in a map literal", offset: keyNode.range.lowerBound)
                }
                let value = try evaluate(valueNode)
                guard map.insert(key, value) else {
                    throw CELError("repeated key \(key) in a map literal", offset: keyNode.range.lowerBound)
                }
            }
            return .map(map)
        case .and(let operands):
            return try logical(operands, decisive: false)
        case .or(let operands):
            return try logical(operands, decisive: true)
        case .not(let operand):
            let value = try evaluate(operand)
            guard case .bool(let b) = value else { throw .noOverload("!", [value]) }
            return .bool(!b)
        case .negate(let operand):
            return try negate(try evaluate(operand))
        case .binary(let op, let left, let right):
            return try binary(op, try evaluate(left), try evaluate(right))
        case .conditional(let condition, let then, let otherwise):
            let value = try evaluate(condition)
            guard case .bool(let b) = value else { throw .noOverload("_?_:_", [value]) }
            return try evaluate(b ? then : otherwise)
        case .comprehension(let macro, let range, let variable, let filter, let body):
            return try comprehension(macro, over: try evaluate(range), variable: variable, filter: filter, body: body)
        }
    }

    // MARK: Names

    private func resolve(_ name: String) throws(CELError) -> CELValue {
        if let local = locals.last(where: { $0.name == name }) { return local.value }
        if let value = bindings[name] { return value }
        if Self.typeNames.contains(name) { return .type(name) }
        throw CELError("undeclared reference to '\(name)'")
    }

    static let typeNames: Set<String> = ["int", "uint", "double", "bool", "string", "bytes", "list", "map", "null_type", "type"]

    /// For a chain `a.b.c` of selects on an identifier, the value of the longest dotted binding
    /// name that prefixes it (`a.b.c`, then `a.b` then `.c`, …); nil when the plain rules apply.
    private mutating func resolveQualified(_ node: CELNode) throws(CELError) -> CELValue? {
        guard hasQualifiedBindings else { return nil }
        var fields: [String] = []
        var current = node
        while case .select(let operand, let field) = current.kind {
            fields.append(field)
            current = operand
        }
        guard case .identifier(let root) = current.kind, !locals.contains(where: { $0.name == root }) else { return nil }
        fields.reverse()
        for count in stride(from: fields.count, through: 1, by: -1) {
            let name = ([root] + fields[..<count]).joined(separator: ".")
            if var value = bindings[name] {
                for field in fields[count...] { value = try select(field, from: value) }
                return value
            }
        }
        return nil
    }

    private func select(_ field: String, from value: CELValue) throws(CELError) -> CELValue {
        guard case .map(let map) = value else {
            throw CELError("type '\(value.typeName)' does not support field selection (field '\(field)')")
        }
        guard let result = map[field] else { throw CELError("no such key: '\(field)'") }
        return result
    }

    private func index(_ container: CELValue, _ index: CELValue) throws(CELError) -> CELValue {
        switch container {
        case .list(let list):
            let position: Int64
            switch index {
            case .int(let i): position = i
            case .uint(let u) where u <= UInt64(Int64.max): position = Int64(u)
            case .double(let d) where d == d.rounded(.towardZero) && abs(d) < 9.2e18: position = Int64(d)
            default: throw CELError("invalid list index \(index) (\(index.typeName))")
            }
            guard position >= 0, position < list.count else {
                throw CELError("index \(position) out of range for a list of size \(list.count)")
            }
            return list[Int(position)]
        case .map(let map):
            guard let value = map[index] else { throw CELError("no such key: \(index)") }
            return value
        default:
            throw .noOverload("_[_]", [container, index])
        }
    }

    // MARK: Logic

    /// `&&` (decisive false) and `||` (decisive true) over any number of operands: the decisive
    /// value wins over errors and non-bools wherever they are; otherwise the first error surfaces.
    private mutating func logical(_ operands: [CELNode], decisive: Bool) throws(CELError) -> CELValue {
        var firstError: CELError?
        for operand in operands {
            do throws(CELError) {
                let value = try evaluate(operand)
                guard case .bool(let b) = value else {
                    throw CELError.noOverload(decisive ? "_||_" : "_&&_", [value]).located(at: operand.range.lowerBound)
                }
                if b == decisive { return .bool(decisive) }
            } catch {
                // Running out of budget is not a value to absorb.
                if error.isResourceLimit { throw error }
                if firstError == nil { firstError = error }
            }
        }
        if let firstError { throw firstError }
        return .bool(!decisive)
    }

    // MARK: Macros

    private mutating func comprehension(
        _ macro: CELMacro, over range: CELValue, variable: String, filter: CELNode?, body: CELNode
    ) throws(CELError) -> CELValue {
        let elements: [CELValue]
        switch range {
        case .list(let list): elements = list
        case .map(let map): elements = map.keys
        default: throw CELError("\(macro.rawValue)() needs a list or a map, not \(range.typeName)")
        }
        locals.append((variable, .null))
        defer { locals.removeLast() }
        var results: [CELValue] = []
        var matches = 0
        var firstError: CELError?
        for element in elements {
            try charge(1)
            locals[locals.count - 1].value = element
            switch macro {
            case .all, .exists:
                // Like && / ||: a decisive result absorbs errors from other elements.
                let decisive = macro == .exists
                do throws(CELError) {
                    let value = try evaluate(body)
                    guard case .bool(let b) = value else { throw CELError.noOverload(macro.rawValue, [value]) }
                    if b == decisive { return .bool(decisive) }
                } catch {
                    if error.isResourceLimit { throw error }
                    if firstError == nil { firstError = error }
                }
            case .existsOne:
                if try predicate(body) { matches += 1 }
            case .filter:
                if try predicate(body) { results.append(element) }
            case .map:
                if let filter, !(try predicate(filter)) { continue }
                results.append(try evaluate(body))
            }
        }
        switch macro {
        case .all, .exists:
            if let firstError { throw firstError }
            return .bool(macro == .all)
        case .existsOne: return .bool(matches == 1)
        case .filter, .map: return .list(results)
        }
    }

    private mutating func predicate(_ node: CELNode) throws(CELError) -> Bool {
        let value = try evaluate(node)
        guard case .bool(let b) = value else {
            throw CELError("a macro predicate must be a bool, not \(value.typeName)", offset: node.range.lowerBound)
        }
        return b
    }
}
