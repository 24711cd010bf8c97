/// Static checks of a parsed expression against declared variable types: undeclared variables,
import SluiceJSON
/// unknown functions, fields that cannot exist, and operator or function arguments whose types
/// can never match. Anything typed `dyn` passes and is checked at run time.
struct CELChecker {
    private let environment: CELTypeEnvironment
    private var locals: [(name: String, type: CELType)] = []
    private(set) var errors: [CELError] = []
    /// The expression's text as scalars, to place an operator's error at the operator.
    private let scalars: [Unicode.Scalar]

    init(environment: CELTypeEnvironment, source: String = "") {
        self.environment = environment
        self.scalars = Array(source.unicodeScalars)
    }

    private mutating func report(_ message: String, _ node: CELNode, at offset: Int? = nil) {
        errors.append(CELError(message, offset: offset ?? node.range.lowerBound))
    }

    /// Where the field name of a select node starts: the error is the name, not the chain.
    private static func fieldOffset(_ node: CELNode, _ field: String) -> Int {
        max(node.range.lowerBound, node.range.upperBound - field.unicodeScalars.count)
    }

    private mutating func noOverload(_ function: String, _ types: [CELType], _ node: CELNode) -> CELType {
        report("no matching overload for '\(function)' applied to (\(types.map(\.description).joined(separator: ", ")))", node, at: operatorOffset(node))
        return .dyn
    }

    /// Where a binary node's operator starts: the first scalar after its left operand that is
    /// neither space nor a closing parenthesis (nil for other nodes, or without the source).
    private func operatorOffset(_ node: CELNode) -> Int? {
        guard case .binary(_, let left, _) = node.kind else { return nil }
        var offset = left.range.upperBound
        while offset < min(node.range.upperBound, scalars.count), scalars[offset] == ")" || scalars[offset].properties.isWhitespace {
            offset += 1
        }
        return offset < min(node.range.upperBound, scalars.count) ? offset : nil
    }

    @discardableResult
    mutating func check(_ node: CELNode) -> CELType {
        switch node.kind {
        case .literal(let value):
            return Self.type(of: value)
        case .identifier(let name):
            if let local = locals.last(where: { $0.name == name }) { return local.type }
            if let type = environment.variables[name] { return type }
            if CELEvaluator.typeNames.contains(name) { return .type }
            report("undeclared reference to '\(name)'", node)
            return .dyn
        case .select(let operand, let field):
            if let qualified = qualifiedType(node) { return qualified }
            return select(field, from: check(operand), node, at: Self.fieldOffset(node, field))
        case .presence(let operand, let field):
            let type = check(operand)
            switch type {
            case .dyn, .map, .object: return .bool
            default:
                report("has() cannot test field '\(field)' on a value of type \(type)", node)
                return .bool
            }
        case .index(let operand, let index):
            return self.index(check(operand), check(index), node, constantKey: Self.constantString(index))
        case .call(let name, let arguments):
            if name == "matches", arguments.count == 2 { checkPattern(arguments[1]) }
            return call(name, target: nil, arguments.map { check($0) }, node)
        case .method(let target, let name, let arguments):
            if name == "matches", arguments.count == 1 { checkPattern(arguments[0]) }
            let receiver = check(target)
            return call(name, target: receiver, arguments.map { check($0) }, node)
        case .list(let elements):
            return .list(Self.unify(elements.map { check($0) }))
        case .map(let entries):
            var keys: [CELType] = [], values: [CELType] = []
            for (key, value) in entries {
                let keyType = check(key)
                switch keyType {
                case .dyn, .int, .uint, .bool, .string: break
                default: report("unsupported map key type \(keyType)", key)
                }
                keys.append(keyType)
                values.append(check(value))
            }
            return .map(key: Self.unify(keys), value: Self.unify(values))
        case .and(let operands), .or(let operands):
            let op = if case .and = node.kind { "&&" } else { "||" }
            for operand in operands {
                let type = check(operand)
                if type != .bool && type != .dyn {
                    report("no matching overload for '\(op)': operand is \(type), not bool", operand)
                }
            }
            return .bool
        case .not(let operand):
            let type = check(operand)
            if type != .bool && type != .dyn { return noOverload("!", [type], node) }
            return .bool
        case .negate(let operand):
            let type = check(operand)
            switch type {
            case .int, .double, .dyn: return type
            default: return noOverload("-", [type], node)
            }
        case .binary(let op, let left, let right):
            return binary(op, check(left), check(right), node)
        case .conditional(let condition, let then, let otherwise):
            let type = check(condition)
            if type != .bool && type != .dyn {
                report("the condition of '? :' must be a bool, not \(type)", condition)
            }
            return Self.unify([check(then), check(otherwise)])
        case .comprehension(let macro, let range, let variable, let filter, let body):
            return comprehension(macro, check(range), variable, filter, body, node)
        }
    }

    // MARK: Names and members

    /// For a select chain on an identifier, the type of the longest dotted variable name that
    /// prefixes it (`a.b.c` declared as one name).
    private mutating func qualifiedType(_ node: CELNode) -> CELType? {
        var fields: [String] = []
        var offsets: [Int] = []
        var current = node
        while case .select(let operand, let field) = current.kind {
            fields.append(field)
            offsets.append(Self.fieldOffset(current, field))
            current = operand
        }
        offsets.reverse()
        guard case .identifier(let root) = current.kind, !locals.contains(where: { $0.name == root }) else { return nil }
        fields.reverse()
        for count in stride(from: fields.count, through: 1, by: -1) {
            let name = ([root] + fields[..<count]).joined(separator: ".")
            if var type = environment.variables[name] {
                for index in count..<fields.count { type = select(fields[index], from: type, node, at: offsets[index]) }
                return type
            }
        }
        return nil
    }

    private mutating func select(_ field: String, from type: CELType, _ node: CELNode, at offset: Int? = nil) -> CELType {
        switch type {
        case .dyn: return .dyn
        case .map(let key, let value):
            if key != .string && key != .dyn { report("cannot select field '\(field)' from \(type): its keys are not strings", node, at: offset) }
            return value
        case .object(let fields, let closed):
            if let fieldType = fields[field] { return fieldType }
            if closed {
                let known = fields.keys.sorted()
                let list = known.prefix(12).joined(separator: ", ") + (known.count > 12 ? ", …" : "")
                report(
                    "no such field '\(field)'" + (known.isEmpty ? "" : " (known fields: \(list))")
                        + NameSuggestion.didYouMean(field, among: known), node, at: offset)
            }
            return .dyn
        default:
            report("type '\(type)' does not support field selection (field '\(field)')", node, at: offset)
            return .dyn
        }
    }

    private mutating func index(_ container: CELType, _ index: CELType, _ node: CELNode, constantKey: String?) -> CELType {
        switch container {
        case .dyn: return .dyn
        case .list(let element):
            guard [.int, .uint, .dyn].contains(index) else { return noOverload("_[_]", [container, index], node) }
            return element
        case .map(let key, let value):
            guard Self.comparable(key, index) else { return noOverload("_[_]", [container, index], node) }
            return value
        case .object:
            guard index == .string || index == .dyn else { return noOverload("_[_]", [container, index], node) }
            if let constantKey { return select(constantKey, from: container, node) }
            return .dyn
        default:
            return noOverload("_[_]", [container, index], node)
        }
    }

    // MARK: Operators

    private mutating func binary(_ op: CELBinaryOperator, _ a: CELType, _ b: CELType, _ node: CELNode) -> CELType {
        switch op {
        case .equal, .notEqual:
            if !Self.comparable(a, b) { _ = noOverload(op.rawValue, [a, b], node) }
            return .bool
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            let ordered: Bool =
                switch (a, b) {
                case (.dyn, _), (_, .dyn): true
                case _ where a.isNumeric && b.isNumeric: true
                case (.string, .string), (.bytes, .bytes), (.bool, .bool): true
                default: false
                }
            if !ordered { _ = noOverload(op.rawValue, [a, b], node) }
            return .bool
        case .in:
            switch b {
            case .dyn: break
            case .list(let element): if !Self.comparable(a, element) { _ = noOverload("in", [a, b], node) }
            case .map(let key, _): if !Self.comparable(a, key) { _ = noOverload("in", [a, b], node) }
            case .object: if !Self.comparable(a, .string) { _ = noOverload("in", [a, b], node) }
            default: _ = noOverload("in", [a, b], node)
            }
            return .bool
        case .add, .subtract, .multiply, .divide, .remainder:
            let allowed: [CELType] =
                switch op {
                case .add: [.int, .uint, .double, .string, .bytes]
                case .remainder: [.int, .uint]
                default: [.int, .uint, .double]
                }
            switch (a, b) {
            case (.dyn, .dyn): return .dyn
            case (.dyn, let known), (let known, .dyn):
                if allowed.contains(known) { return known }
                if op == .add, case .list = known { return known }
                return noOverload(op.rawValue, [a, b], node)
            case (.list(let x), .list(let y)) where op == .add:
                return .list(Self.unify([x, y]))
            default:
                if a == b && allowed.contains(a) { return a }
                return noOverload(op.rawValue, [a, b], node)
            }
        }
    }

    // MARK: Functions

    private mutating func call(_ name: String, target: CELType?, _ arguments: [CELType], _ node: CELNode) -> CELType {
        let all = (target.map { [$0] } ?? []) + arguments
        func accepts(_ types: [CELType]) -> Bool { all.count == 1 && (all[0] == .dyn || types.contains(all[0])) }
        func strings(_ count: Int) -> Bool { all.count == count && all.allSatisfy { $0 == .string || $0 == .dyn } }
        switch name {
        case "size":
            guard all.count == 1 else { break }
            switch all[0] {
            case .dyn, .string, .bytes, .list, .map, .object: return .int
            default: break
            }
        case "int" where target == nil && accepts([.int, .uint, .double, .string]): return .int
        case "uint" where target == nil && accepts([.int, .uint, .double, .string]): return .uint
        case "double" where target == nil && accepts([.int, .uint, .double, .string]): return .double
        case "string" where target == nil && accepts([.int, .uint, .double, .string, .bytes, .bool]): return .string
        case "bytes" where target == nil && accepts([.string, .bytes]): return .bytes
        case "bool" where target == nil && accepts([.bool, .string]): return .bool
        case "type" where target == nil && all.count == 1: return .type
        case "dyn" where target == nil && all.count == 1: return .dyn
        case "contains", "startsWith", "endsWith", "matches":
            if target != nil || name == "matches", strings(2) { return .bool }
        case "lowerAscii", "upperAscii", "trim":
            if target != nil, strings(1) { return .string }
        case "replace":
            if target != nil, strings(3) || (all.count == 4 && areStrings(all) && [.int, .dyn].contains(all[3])) { return .string }
        case "split":
            if target != nil, strings(2) || (all.count == 3 && areStrings(all.prefix(2)) && [.int, .dyn].contains(all[2])) {
                return .list(.string)
            }
        case "indexOf", "lastIndexOf":
            if target != nil, strings(2) || (all.count == 3 && areStrings(all.prefix(2)) && [.int, .dyn].contains(all[2])) { return .int }
        case "substring":
            if target != nil, all.count >= 2, all.count <= 3, areStrings(all.prefix(1)), all.dropFirst().allSatisfy({ [.int, .dyn].contains($0) }) {
                return .string
            }
        case "charAt":
            if target != nil, all.count == 2, areStrings(all.prefix(1)), [.int, .dyn].contains(all[1]) { return .string }
        case "join":
            if target != nil, all.count <= 2, [.list(.string), .list(.dyn), .dyn].contains(all[0]), all.count == 1 || [.string, .dyn].contains(all[1]) {
                return .string
            }
        case "flatten":
            guard target != nil, all.count <= 2, all.count == 1 || [.int, .dyn].contains(all[1]) else { break }
            switch all[0] {
            case .dyn: return .list(.dyn)
            case .list(let element):
                // One level: a list of lists of T becomes a list of T; deeper or mixed is dyn.
                if all.count == 1, case .list(let inner) = element { return .list(inner) }
                return .list(.dyn)
            default: break
            }
        case "relevant":
            guard target != nil, all.count == 3, [.string, .dyn].contains(all[1]), [.int, .dyn].contains(all[2]) else { break }
            switch all[0] {
            case .dyn: return .list(.dyn)
            case .list: return all[0]
            default: break
            }
        case "distinct":
            guard target != nil, all.count == 1 else { break }
            switch all[0] {
            case .dyn: return .list(.dyn)
            case .list: return all[0]
            default: break
            }
        default:
            let known = target == nil ? CELFunctions.globalNames.contains(name) : CELFunctions.methodNames.contains(name)
            if !known {
                report("undeclared function '\(name)'", node)
                return .dyn
            }
        }
        return noOverload(name, all, node)
    }

    /// A constant pattern is compiled now, so a bad regular expression is a validation error.
    private mutating func checkPattern(_ node: CELNode) {
        guard let pattern = Self.constantString(node) else { return }
        do {
            _ = try CELStrings.regex(pattern)
        } catch {
            report(error.message, node)
        }
    }

    private func areStrings(_ types: some Collection<CELType>) -> Bool {
        types.allSatisfy { $0 == .string || $0 == .dyn }
    }

    // MARK: Macros

    private mutating func comprehension(
        _ macro: CELMacro, _ range: CELType, _ variable: String, _ filter: CELNode?, _ body: CELNode, _ node: CELNode
    ) -> CELType {
        let element: CELType
        switch range {
        case .dyn: element = .dyn
        case .list(let e): element = e
        case .map(let key, _): element = key
        case .object: element = .string
        default:
            report("\(macro.rawValue)() needs a list or a map, not \(range)", node)
            element = .dyn
        }
        locals.append((variable, element))
        defer { locals.removeLast() }
        if let filter { expectBool(check(filter), filter, macro) }
        let bodyType = check(body)
        switch macro {
        case .all, .exists, .existsOne:
            expectBool(bodyType, body, macro)
            return .bool
        case .filter:
            expectBool(bodyType, body, macro)
            return .list(element)
        case .map:
            return .list(bodyType)
        }
    }

    private mutating func expectBool(_ type: CELType, _ node: CELNode, _ macro: CELMacro) {
        if type != .bool && type != .dyn { report("the predicate of \(macro.rawValue)() must be a bool, not \(type)", node) }
    }

    // MARK: Type algebra

    static func type(of value: CELValue) -> CELType {
        switch value {
        case .int: .int
        case .uint: .uint
        case .double: .double
        case .string: .string
        case .bytes: .bytes
        case .bool: .bool
        case .null: .null
        case .type: .type
        case .list(let l): .list(unify(l.map(type(of:))))
        case .map(let m): .map(key: unify(m.keys.map(type(of:))), value: unify(m.entries.map { type(of: $0.value) }))
        }
    }

    /// The common type of several, or `dyn` when they differ.
    static func unify(_ types: [CELType]) -> CELType {
        guard let first = types.first else { return .dyn }
        return types.allSatisfy { $0 == first } ? first : .dyn
    }

    /// Whether values of these types can ever be equal (so `==` and `in` between them make sense).
    static func comparable(_ a: CELType, _ b: CELType) -> Bool {
        switch (a, b) {
        case (.dyn, _), (_, .dyn), (.null, _), (_, .null): return true
        case _ where a.isNumeric && b.isNumeric: return true
        case (.list(let x), .list(let y)): return comparable(x, y)
        case (.map(let k1, let v1), .map(let k2, let v2)): return comparable(k1, k2) && comparable(v1, v2)
        case (.object, .object), (.object, .map(.string, _)), (.map(.string, _), .object): return true
        default: return a == b
        }
    }

    static func constantString(_ node: CELNode) -> String? {
        if case .literal(.string(let s)) = node.kind { s } else { nil }
    }
}

extension CELExpression {
    /// Checks the expression against the declared variables without running it.
    ///
    /// Reports undeclared variables and functions, fields that a closed object type cannot have,
    /// and operators or functions applied to types that can never match (for example
    /// `"no matching overload for '+' applied to (string, int)"`). Values typed `dyn` pass.
    /// - Returns: every problem found, in source order; empty when the expression checks.
    public func check(_ environment: CELTypeEnvironment) -> [CELError] {
        var checker = CELChecker(environment: environment, source: source)
        checker.check(root)
        let positions = CELSourcePositions(source)
        return checker.errors.map(positions.characterPositions).sorted { ($0.offset ?? 0) < ($1.offset ?? 0) }
    }

    /// The static type of the expression's result under `environment` (`dyn` when unknown).
    public func resultType(_ environment: CELTypeEnvironment) -> CELType {
        var checker = CELChecker(environment: environment)
        return checker.check(root)
    }
}
