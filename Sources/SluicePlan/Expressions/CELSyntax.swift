/// The parsed form of a CEL expression: a tree of nodes, each remembering its source range.
struct CELNode: Sendable {
    indirect enum Kind: Sendable {
        case literal(CELValue)
        case identifier(String)
        /// `operand.field`
        case select(CELNode, field: String)
        /// `has(operand.field)`
        case presence(CELNode, field: String)
        /// `operand[index]`
        case index(CELNode, CELNode)
        /// `function(arguments)`
        case call(String, [CELNode])
        /// `target.function(arguments)`
        case method(CELNode, String, [CELNode])
        case list([CELNode])
        case map([(key: CELNode, value: CELNode)])
        /// `a && b && …`, kept flat so long chains stay shallow and errors absorb in any order.
        case and([CELNode])
        case or([CELNode])
        case not(CELNode)
        case negate(CELNode)
        case binary(CELBinaryOperator, CELNode, CELNode)
        case conditional(CELNode, then: CELNode, else: CELNode)
        /// A macro over a list or map: `range.all(variable, body)` and friends. `filter` is only
        /// set for the three-argument `map(x, filter, body)`.
        case comprehension(CELMacro, range: CELNode, variable: String, filter: CELNode?, body: CELNode)
    }

    var kind: Kind
    /// Where the node is in the source, in Unicode scalars.
    var range: Range<Int>
    /// The height of the subtree, bounded by the parser so evaluation cannot recurse without limit.
    var depth: Int

    init(_ kind: Kind, range: Range<Int>) {
        self.kind = kind
        self.range = range
        self.depth = 1 + (kind.children.map(\.depth).max() ?? 0)
    }
}

extension CELNode.Kind {
    var children: [CELNode] {
        switch self {
        case .literal, .identifier: []
        case .select(let operand, _), .presence(let operand, _), .not(let operand), .negate(let operand): [operand]
        case .index(let a, let b), .binary(_, let a, let b): [a, b]
        case .call(_, let args), .list(let args), .and(let args), .or(let args): args
        case .method(let target, _, let args): [target] + args
        case .map(let entries): entries.flatMap { [$0.key, $0.value] }
        case .conditional(let c, let t, let e): [c, t, e]
        case .comprehension(_, let range, _, let filter, let body): [range] + (filter.map { [$0] } ?? []) + [body]
        }
    }
}

enum CELBinaryOperator: String, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", remainder = "%"
    case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    case `in` = "in"
}

/// The standard CEL macros, expanded at parse time into comprehensions.
enum CELMacro: String, Sendable {
    case all, exists, existsOne = "exists_one", map, filter
}
