/// A recursive-descent parser for the CEL grammar (without message construction).
///
/// Nesting is bounded: every node's subtree height is checked against `maxDepth`, so neither the
/// parser nor the evaluator can be driven into unbounded recursion by hostile input.
struct CELParser {
    private var tokens: [CELToken]
    private var position = 0
    private let maxDepth: Int
    private var nesting = 0

    /// Words CEL reserves: they may be field and method names but not variables.
    static let reservedWords: Set<String> = [
        "as", "break", "const", "continue", "else", "for", "function", "if", "import", "let", "loop",
        "package", "namespace", "return", "var", "void", "while", "in", "true", "false", "null",
    ]

    /// Reserved words Sluice accepts as variable names anyway: plans bind `loop` inside loop
    /// bodies (`loop.iteration`). Standard CEL parsers reject this; it is the subset's one extension.
    static let variableReservedWords: Set<String> = ["loop"]

    init(tokens: [CELToken], maxDepth: Int) {
        self.tokens = tokens
        self.maxDepth = maxDepth
    }

    static func parse(_ source: String, maxDepth: Int) throws(CELError) -> CELNode {
        var parser = CELParser(tokens: try CELLexer.tokenize(source), maxDepth: maxDepth)
        let node = try parser.parseExpression()
        guard case .end = parser.current.kind else {
            throw CELError("unexpected \(parser.current.kind.display) after the expression", offset: parser.current.range.lowerBound)
        }
        return node
    }

    // MARK: Tokens

    private var current: CELToken { tokens[position] }

    private func isPunctuation(_ text: String, ahead: Int = 0) -> Bool {
        let i = min(position + ahead, tokens.count - 1)
        return tokens[i].kind == .punctuation(text)
    }

    private var isIn: Bool { current.kind == .identifier("in") }

    @discardableResult
    private mutating func advance() -> CELToken {
        let token = tokens[position]
        if position < tokens.count - 1 { position += 1 }
        return token
    }

    private mutating func expect(_ text: String, _ context: String) throws(CELError) -> CELToken {
        guard isPunctuation(text) else {
            throw CELError("expected '\(text)' \(context), found \(current.kind.display)", offset: current.range.lowerBound)
        }
        return advance()
    }

    private func node(_ kind: CELNode.Kind, _ range: Range<Int>) throws(CELError) -> CELNode {
        let node = CELNode(kind, range: range)
        guard node.depth <= maxDepth else {
            throw CELError("expression nested too deeply (more than \(maxDepth) levels)", offset: range.lowerBound)
        }
        return node
    }

    // MARK: Grammar

    /// expr: binary ('?' binary ':' expr)?
    mutating func parseExpression() throws(CELError) -> CELNode {
        nesting += 1
        defer { nesting -= 1 }
        guard nesting <= maxDepth else {
            throw CELError("expression nested too deeply (more than \(maxDepth) levels)", offset: current.range.lowerBound)
        }
        let condition = try parseBinaryChain()
        guard isPunctuation("?") else { return condition }
        advance()
        let then = try parseBinaryChain()
        _ = try expect(":", "in a conditional expression")
        let otherwise = try parseExpression()
        return try node(.conditional(condition, then: then, else: otherwise), condition.range.lowerBound..<otherwise.range.upperBound)
    }

    /// The binary operators and their precedence levels, loosest first:
    /// `||`, `&&`, relations (`< <= > >= == != in`), `+ -`, `* / %`; all left-associative.
    private enum BinaryToken {
        case or, and
        case binary(CELBinaryOperator)

        var level: Int {
            switch self {
            case .or: 0
            case .and: 1
            case .binary(let op):
                switch op {
                case .add, .subtract: 3
                case .multiply, .divide, .remainder: 4
                default: 2
                }
            }
        }
    }

    private var binaryToken: BinaryToken? {
        if isIn { return .binary(.in) }
        guard case .punctuation(let p) = current.kind else { return nil }
        switch p {
        case "||": return .or
        case "&&": return .and
        default: return CELBinaryOperator(rawValue: p).map { .binary($0) }
        }
    }

    /// A chain of unary operands joined by binary operators, parsed with an operator stack rather
    /// than one recursive call per precedence level, so deep parentheses cost few stack frames.
    private mutating func parseBinaryChain() throws(CELError) -> CELNode {
        var operands = [try parseUnary()]
        var operators: [BinaryToken] = []
        while let token = binaryToken {
            advance()
            while let top = operators.last, top.level >= token.level {
                operators.removeLast()
                try reduce(top, &operands)
            }
            operators.append(token)
            operands.append(try parseUnary())
        }
        while let top = operators.popLast() {
            try reduce(top, &operands)
        }
        return operands[0]
    }

    private func reduce(_ token: BinaryToken, _ operands: inout [CELNode]) throws(CELError) {
        let right = operands.removeLast()
        let left = operands.removeLast()
        let range = left.range.lowerBound..<right.range.upperBound
        switch (token, left.kind) {
        case (.or, .or(let terms)): operands.append(try node(.or(terms + [right]), range))
        case (.or, _): operands.append(try node(.or([left, right]), range))
        case (.and, .and(let terms)): operands.append(try node(.and(terms + [right]), range))
        case (.and, _): operands.append(try node(.and([left, right]), range))
        case (.binary(let op), _): operands.append(try node(.binary(op, left, right), range))
        }
    }

    /// unary: member | '!'+ member | '-'+ member
    private mutating func parseUnary() throws(CELError) -> CELNode {
        var operators: [(negate: Bool, offset: Int)] = []
        while isPunctuation("!") || isPunctuation("-") {
            operators.append((isPunctuation("-"), current.range.lowerBound))
            advance()
        }
        var operand: CELNode
        if let last = operators.last, last.negate, let literal = try negativeLiteral(at: last.offset) {
            // `-9223372036854775808` is a literal, not the negation of an out-of-range one.
            operators.removeLast()
            operand = literal
        } else {
            operand = try parseMember()
        }
        for (negate, offset) in operators.reversed() {
            operand = try node(negate ? .negate(operand) : .not(operand), offset..<operand.range.upperBound)
        }
        return operand
    }

    private mutating func negativeLiteral(at offset: Int) throws(CELError) -> CELNode? {
        // A literal directly followed by a member access stays an operand of the minus.
        guard !isPunctuation(".", ahead: 1), !isPunctuation("[", ahead: 1) else { return nil }
        let token = current
        let value: CELValue
        switch token.kind {
        case .int(let magnitude):
            guard magnitude <= UInt64(Int64.max) + 1 else {
                throw CELError("integer literal out of range", offset: token.range.lowerBound)
            }
            value = .int(magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude))
        case .double(let d): value = .double(-d)
        default: return nil
        }
        advance()
        return try node(.literal(value), offset..<token.range.upperBound)
    }

    /// member: primary ('.' name ('(' args ')')? | '[' expr ']')*
    private mutating func parseMember() throws(CELError) -> CELNode {
        var operand = try parsePrimary()
        while true {
            if isPunctuation(".") {
                advance()
                let nameToken = advance()
                let name: String
                switch nameToken.kind {
                case .identifier(let n), .quotedIdentifier(let n): name = n
                default:
                    throw CELError("expected a field or method name after '.', found \(nameToken.kind.display)", offset: nameToken.range.lowerBound)
                }
                if isPunctuation("("), case .identifier = nameToken.kind {
                    advance()
                    let (arguments, end) = try parseArguments()
                    operand = try methodCall(operand, name, arguments, operand.range.lowerBound..<end)
                } else {
                    operand = try node(.select(operand, field: name), operand.range.lowerBound..<nameToken.range.upperBound)
                }
            } else if isPunctuation("[") {
                advance()
                let index = try parseExpression()
                let close = try expect("]", "to close the index")
                operand = try node(.index(operand, index), operand.range.lowerBound..<close.range.upperBound)
            } else if isPunctuation("{") {
                throw CELError("message construction is not supported", offset: current.range.lowerBound)
            } else {
                return operand
            }
        }
    }

    private mutating func parsePrimary() throws(CELError) -> CELNode {
        let token = advance()
        let range = token.range
        switch token.kind {
        case .int(let magnitude):
            guard magnitude <= UInt64(Int64.max) else { throw CELError("integer literal out of range", offset: range.lowerBound) }
            return try node(.literal(.int(Int64(magnitude))), range)
        case .uint(let u): return try node(.literal(.uint(u)), range)
        case .double(let d): return try node(.literal(.double(d)), range)
        case .string(let s): return try node(.literal(.string(s)), range)
        case .bytes(let b): return try node(.literal(.bytes(b)), range)
        case .identifier(let name):
            switch name {
            case "true": return try node(.literal(.bool(true)), range)
            case "false": return try node(.literal(.bool(false)), range)
            case "null": return try node(.literal(.null), range)
            default: break
            }
            guard !Self.reservedWords.contains(name) || Self.variableReservedWords.contains(name) else {
                throw CELError("'\(name)' is a reserved word", offset: range.lowerBound)
            }
            if isPunctuation("(") {
                advance()
                let (arguments, end) = try parseArguments()
                return try globalCall(name, arguments, range.lowerBound..<end)
            }
            return try node(.identifier(name), range)
        case .punctuation("."):
            // A leading dot names the root namespace: `.x` is `x`.
            let nameToken = advance()
            guard case .identifier(let name) = nameToken.kind, !Self.reservedWords.contains(name) else {
                throw CELError("expected an identifier after a leading '.'", offset: nameToken.range.lowerBound)
            }
            if isPunctuation("(") {
                advance()
                let (arguments, end) = try parseArguments()
                return try globalCall(name, arguments, range.lowerBound..<end)
            }
            return try node(.identifier(name), range.lowerBound..<nameToken.range.upperBound)
        case .punctuation("("):
            let inner = try parseExpression()
            _ = try expect(")", "to close the parenthesis")
            return inner
        case .punctuation("["):
            var elements: [CELNode] = []
            while !isPunctuation("]") {
                elements.append(try parseExpression())
                guard isPunctuation(",") else { break }
                advance()
            }
            let close = try expect("]", "to close the list")
            return try node(.list(elements), range.lowerBound..<close.range.upperBound)
        case .punctuation("{"):
            var entries: [(key: CELNode, value: CELNode)] = []
            while !isPunctuation("}") {
                let key = try parseExpression()
                _ = try expect(":", "after a map key")
                let value = try parseExpression()
                entries.append((key, value))
                guard isPunctuation(",") else { break }
                advance()
            }
            let close = try expect("}", "to close the map")
            return try node(.map(entries), range.lowerBound..<close.range.upperBound)
        case .end:
            throw CELError("unexpected end of expression", offset: range.lowerBound)
        default:
            throw CELError("unexpected \(token.kind.display)", offset: range.lowerBound)
        }
    }

    /// Arguments after an opening parenthesis, through the closing one.
    private mutating func parseArguments() throws(CELError) -> ([CELNode], end: Int) {
        var arguments: [CELNode] = []
        if !isPunctuation(")") {
            while true {
                arguments.append(try parseExpression())
                guard isPunctuation(",") else { break }
                advance()
            }
        }
        let close = try expect(")", "to close the argument list")
        return (arguments, close.range.upperBound)
    }

    // MARK: Macros

    private func globalCall(_ name: String, _ arguments: [CELNode], _ range: Range<Int>) throws(CELError) -> CELNode {
        guard name == "has" else { return try node(.call(name, arguments), range) }
        guard arguments.count == 1, case .select(let operand, let field) = arguments[0].kind else {
            throw CELError("has() needs a single field selection argument, as in has(x.field)", offset: range.lowerBound)
        }
        return try node(.presence(operand, field: field), range)
    }

    private func methodCall(_ target: CELNode, _ name: String, _ arguments: [CELNode], _ range: Range<Int>) throws(CELError) -> CELNode {
        guard let macro = CELMacro(rawValue: name), arguments.count == 2 || (macro == .map && arguments.count == 3) else {
            return try node(.method(target, name, arguments), range)
        }
        guard case .identifier(let variable) = arguments[0].kind else {
            throw CELError("the first argument of \(name)() must be a variable name", offset: arguments[0].range.lowerBound)
        }
        if arguments.count == 3 {
            // map(x, filter, transform): the elements that pass the filter, transformed.
            return try node(.comprehension(.map, range: target, variable: variable, filter: arguments[1], body: arguments[2]), range)
        }
        return try node(.comprehension(macro, range: target, variable: variable, filter: nil, body: arguments[1]), range)
    }
}

extension CELToken.Kind {
    /// The token as an error message shows it.
    var display: String {
        switch self {
        case .int(let m): "'\(m)'"
        case .uint(let u): "'\(u)u'"
        case .double(let d): "'\(d)'"
        case .string: "a string literal"
        case .bytes: "a bytes literal"
        case .identifier(let name): "'\(name)'"
        case .quotedIdentifier(let name): "'`\(name)`'"
        case .punctuation(let p): "'\(p)'"
        case .end: "the end of the expression"
        }
    }
}
