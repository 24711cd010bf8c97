/// A parsed CEL expression, ready to check and evaluate.
///
/// Plans use expressions for `when`, `until`, `over` and `"${…}"` values; see
/// `docs/expressions.md` for the supported subset.
///
/// ```swift
/// let gate = try CELExpression(parsing: "steps.gate.output.score >= inputs.quality_threshold")
/// let passed = try gate.evaluate(["steps": steps, "inputs": inputs])   // .bool(true)
/// ```
///
/// #### Errors
/// - Parsing throws a ``CELError`` with the offset of the first syntax error, including nesting
///   deeper than ``Limits/maxDepth`` and sources longer than ``Limits/maxSourceLength``.
/// - Evaluation throws a ``CELError`` for CEL runtime errors (overflow, division by zero, missing
///   keys, no matching overload, …) and when the cost budget ``Limits/maxCost`` is spent.
public struct CELExpression: Sendable {
    /// Bounds that keep parsing and evaluation safe on hostile input.
    public struct Limits: Sendable {
        /// Deepest allowed nesting of the syntax tree (parentheses, operators, calls, literals).
        public var maxDepth: Int
        /// Longest accepted source, in Unicode scalars.
        public var maxSourceLength: Int
        /// Units of work one evaluation may spend: one per node evaluated and per macro
        /// iteration, plus the size of every string, bytes and list built by concatenation.
        public var maxCost: Int

        public init(maxDepth: Int = 200, maxSourceLength: Int = 100_000, maxCost: Int = 10_000_000) {
            self.maxDepth = maxDepth
            self.maxSourceLength = maxSourceLength
            self.maxCost = maxCost
        }

        public static let `default` = Limits()
    }

    /// The expression text as written.
    public let source: String
    public let limits: Limits
    let root: CELNode

    /// Parses `source`.
    /// - Throws: ``CELError`` with the offset of the syntax error.
    public init(parsing source: String, limits: Limits = .default) throws(CELError) {
        let length = source.unicodeScalars.count
        guard length <= limits.maxSourceLength else {
            throw CELError("expression longer than \(limits.maxSourceLength) characters", offset: limits.maxSourceLength)
        }
        self.source = source
        self.limits = limits
        do {
            self.root = try CELParser.parse(source, maxDepth: limits.maxDepth)
        } catch {
            throw CELSourcePositions(source).characterPositions(error)
        }
    }

    /// Evaluates the expression with `bindings` as its variables (`inputs`, `steps`, `item`, …).
    ///
    /// A dotted binding name such as `"a.b"` is found by the select chain `a.b`, the longest
    /// bound prefix winning, as CEL resolves qualified identifiers.
    /// - Throws: ``CELError`` for runtime errors, located at the failing subexpression.
    public func evaluate(_ bindings: [String: CELValue]) throws(CELError) -> CELValue {
        var evaluator = CELEvaluator(bindings: bindings, maxCost: limits.maxCost)
        do {
            return try evaluator.evaluate(root)
        } catch {
            throw CELSourcePositions(source).characterPositions(error)
        }
    }

    /// Every use of a free variable with the member chain that follows it, in source order.
    ///
    /// `size(steps.outline.output.sections) > 0` has one reference, with path
    /// `["steps", "outline", "output", "sections"]`; a constant string index (`x["a b"]`) extends
    /// the path like a field. Macro variables (`x` in `list.all(x, x > 0)`) are not free.
    public var references: [CELReference] {
        var collector = CELReferenceCollector()
        collector.collect(root, bound: [])
        let positions = CELSourcePositions(source)
        return collector.references.map { reference in
            var reference = reference
            reference.range = positions.characterRange(reference.range)
            return reference
        }
    }
}

/// A use of a variable: the root name, then each field or constant key selected from it.
public struct CELReference: Sendable, Hashable {
    /// For `steps.gate.output.score`: `["steps", "gate", "output", "score"]`.
    public var path: [String]
    /// The source range of the whole chain, in characters.
    public var range: Range<Int>
    /// Whether the chain is tested with `has(…)` (its last field may be absent) rather than read.
    public var isPresenceTest: Bool

    public init(path: [String], range: Range<Int>, isPresenceTest: Bool = false) {
        self.path = path
        self.range = range
        self.isPresenceTest = isPresenceTest
    }
}

struct CELReferenceCollector {
    var references: [CELReference] = []

    mutating func collect(_ node: CELNode, bound: [String]) {
        if let path = chain(node), !bound.contains(path[0]) {
            // A chain's indexes are string literals, so it references nothing else.
            references.append(CELReference(path: path, range: node.range))
            return
        }
        switch node.kind {
        case .comprehension(_, let range, let variable, let filter, let body):
            collect(range, bound: bound)
            if let filter { collect(filter, bound: bound + [variable]) }
            collect(body, bound: bound + [variable])
        case .presence(let operand, let field):
            // has(a.b) refers to a.b: record the tested field as part of the path.
            if let path = chain(operand), !bound.contains(path[0]) {
                references.append(CELReference(path: path + [field], range: node.range, isPresenceTest: true))
            } else {
                collect(operand, bound: bound)
            }
        default:
            for child in node.kind.children { collect(child, bound: bound) }
        }
    }

    /// The path of a select/constant-index chain rooted at an identifier.
    private func chain(_ node: CELNode) -> [String]? {
        switch node.kind {
        case .identifier(let name): return [name]
        case .select(let operand, let field): return chain(operand).map { $0 + [field] }
        case .index(let operand, let index):
            guard case .literal(.string(let key)) = index.kind else { return nil }
            return chain(operand).map { $0 + [key] }
        default: return nil
        }
    }
}
