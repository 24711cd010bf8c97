extension CELEvaluator {
    /// A global function call: `size(x)`, the conversions, `type(x)`, `dyn(x)`, `matches(s, re)`.
    mutating func callGlobal(_ name: String, _ arguments: [CELValue]) throws(CELError) -> CELValue {
        switch (name, arguments.count) {
        case ("size", 1): return try size(arguments[0])
        case ("int", 1): return try CELConversions.toInt(arguments[0])
        case ("uint", 1): return try CELConversions.toUInt(arguments[0])
        case ("double", 1): return try CELConversions.toDouble(arguments[0])
        case ("string", 1): return try CELConversions.toString(arguments[0])
        case ("bytes", 1): return try CELConversions.toBytes(arguments[0])
        case ("bool", 1): return try CELConversions.toBool(arguments[0])
        case ("type", 1): return .type(arguments[0].typeName)
        case ("dyn", 1): return arguments[0]
        case ("matches", 2): return try callMethod("matches", on: arguments[0], [arguments[1]])
        default:
            if CELFunctions.globalNames.contains(name) {
                throw .noOverload(name, arguments)
            }
            throw CELError("unbound function '\(name)'")
        }
    }

    /// A receiver-style call: `s.contains(t)`, `list.size()`, the string extensions.
    mutating func callMethod(_ name: String, on receiver: CELValue, _ arguments: [CELValue]) throws(CELError) -> CELValue {
        if name == "size", arguments.isEmpty { return try size(receiver) }
        if case .list(let list) = receiver {
            switch name {
            case "join": return try join(list, arguments)
            case "flatten": return try flatten(list, arguments)
            case "distinct" where arguments.isEmpty: return try distinct(list)
            case "relevant":
                guard arguments.count == 2, case .string(let query) = arguments[0], case .int(let count) = arguments[1] else {
                    throw .noOverload(name, [receiver] + arguments)
                }
                guard count >= 0 else { throw CELError("relevant: the number of elements to keep is negative (\(count))") }
                let (selected, cost) = CELRelevance.relevant(list, query: query, count: Int(count))
                try charge(cost)
                return .list(selected)
            default: break
            }
        }
        guard case .string(let text) = receiver else {
            if CELFunctions.methodNames.contains(name) { throw .noOverload(name, [receiver] + arguments) }
            throw CELError("unbound function '\(name)'")
        }
        try charge(text.utf8.count / 64)
        switch (name, arguments.first) {
        case ("contains", .string(let other)) where arguments.count == 1:
            return .bool(CELStrings.firstIndex(of: Array(other.utf8), in: Array(text.utf8)) != nil)
        case ("startsWith", .string(let prefix)) where arguments.count == 1:
            return .bool(text.utf8.starts(with: prefix.utf8))
        case ("endsWith", .string(let suffix)) where arguments.count == 1:
            return .bool(text.utf8.reversed().starts(with: suffix.utf8.reversed()))
        case ("matches", .string(let pattern)) where arguments.count == 1:
            let regex = try CELStrings.regex(pattern)
            // Matching costs text × program size; charge it so huge inputs hit the budget.
            try charge(text.unicodeScalars.count * regex.instructionCount / 16)
            return .bool(regex.matches(text))
        default:
            // The extensions build new strings: charge their size up front.
            if name == "replace", arguments.count >= 2, case .string(let old) = arguments[0], case .string(let new) = arguments[1] {
                var limit = Int.max
                if arguments.count == 3, case .int(let n) = arguments[2], n >= 0 { limit = Int(n) }
                try charge(CELStrings.replaceCost(text, old, new, limit: limit))
            } else {
                try charge(text.utf8.count)
            }
            return try CELStrings.extensionFunction(name, text, arguments)
        }
    }

    private mutating func size(_ value: CELValue) throws(CELError) -> CELValue {
        switch value {
        case .string(let s):
            try charge(s.utf8.count / 64)
            return .int(Int64(s.unicodeScalars.count))
        case .bytes(let b): return .int(Int64(b.count))
        case .list(let l): return .int(Int64(l.count))
        case .map(let m): return .int(Int64(m.count))
        default: throw .noOverload("size", [value])
        }
    }

    /// `list.flatten()` / `list.flatten(depth)` (CEL's lists extension): nested lists spliced
    /// into their parent, one level or `depth` levels deep; other elements stay as they are.
    private mutating func flatten(_ list: [CELValue], _ arguments: [CELValue]) throws(CELError) -> CELValue {
        var depth: Int64 = 1
        switch arguments.first {
        case nil: break
        case .int(let n) where arguments.count == 1:
            guard n >= 0 else { throw CELError("flatten(\(n)): the depth must not be negative") }
            depth = n
        default: throw .noOverload("flatten", [.list(list)] + arguments)
        }
        var result: [CELValue] = []
        try flatten(list, depth: depth, into: &result)
        return .list(result)
    }

    private mutating func flatten(_ list: [CELValue], depth: Int64, into result: inout [CELValue]) throws(CELError) {
        try charge(list.count)
        for element in list {
            if depth > 0, case .list(let inner) = element {
                try flatten(inner, depth: depth - 1, into: &result)
            } else {
                result.append(element)
            }
        }
    }

    /// `list.distinct()` (CEL's lists extension): the elements without repeats, each kept where
    /// it first occurs; repeats are found with `==`.
    private mutating func distinct(_ list: [CELValue]) throws(CELError) -> CELValue {
        var kept: [CELValue] = []
        for element in list {
            try charge(kept.count + 1)
            if !kept.contains(where: { $0.celEquals(element) }) { kept.append(element) }
        }
        return .list(kept)
    }

    private mutating func join(_ list: [CELValue], _ arguments: [CELValue]) throws(CELError) -> CELValue {
        let separator: String
        switch arguments.first {
        case nil: separator = ""
        case .string(let s) where arguments.count == 1: separator = s
        default: throw .noOverload("join", [.list(list)] + arguments)
        }
        var parts: [String] = []
        for element in list {
            guard case .string(let s) = element else { throw CELError("join() needs a list of strings, found \(element.typeName)") }
            parts.append(s)
        }
        let result = parts.joined(separator: separator)
        try charge(result.utf8.count)
        return .string(result)
    }
}

/// The names the evaluator knows, so that a wrong argument type is "no matching overload" and an
/// unknown name is "unbound function".
enum CELFunctions {
    static let globalNames: Set<String> = ["size", "int", "uint", "double", "string", "bytes", "bool", "type", "dyn", "matches"]
    static let methodNames: Set<String> = [
        "size", "contains", "startsWith", "endsWith", "matches", "lowerAscii", "upperAscii", "trim", "replace",
        "split", "join", "indexOf", "lastIndexOf", "substring", "charAt", "flatten", "distinct", "relevant",
    ]
}
