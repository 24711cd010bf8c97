/// A regular expression for `matches()`, in RE2 syntax, run in time linear in the input.
///
/// CEL specifies RE2 so that matching never backtracks; Swift's `Regex` backtracks, and a pattern
/// such as `(a+)+$` takes exponential time on hostile text. This matcher compiles the pattern to
/// an NFA and simulates it breadth-first (a Pike VM without captures): O(text × pattern).
///
/// Supported: literals and escapes (`\n \t \x41 \x{263a} \. …`), `.`, classes (`[a-z] [^0-9]
/// \d \w \s \D \W \S [[:alpha:]]`), anchors (`^ $ \A \z \b \B`), groups (`(…) (?:…) (?P<n>…)`),
/// alternation, the quantifiers `* + ? {n} {n,} {n,m}` (lazy forms too) and the flags `i`, `m`,
/// `s` (`(?i)`, `(?i:…)`). Not supported: Unicode classes (`\pL`), `\Q…\E`, and backreferences
/// and lookaround, which RE2 does not have either.
struct CELRegex {
    /// Largest compiled program accepted; counted repetitions expand, so bound them.
    static let maxInstructions = 10_000

    private enum Instruction {
        case scalar(Unicode.Scalar, caseInsensitive: Bool)
        case set(ScalarSet)
        case any(matchesNewline: Bool)
        case split(Int, Int)
        case jump(Int)
        case assert(Assertion)
        case match
    }

    private enum Assertion { case textStart, textEnd, lineStart, lineEnd, wordBoundary, notWordBoundary }

    /// A set of scalars given by ranges, possibly negated.
    struct ScalarSet {
        var ranges: [ClosedRange<UInt32>] = []
        var negated = false
        var caseInsensitive = false

        func contains(_ scalar: Unicode.Scalar) -> Bool {
            var found = ranges.contains { $0.contains(scalar.value) }
            if !found && caseInsensitive {
                let folded = [CELRegex.lower(scalar), CELRegex.upper(scalar)]
                found = folded.contains { s in ranges.contains { $0.contains(s.value) } }
            }
            return found != negated
        }
    }

    private var program: [Instruction] = []

    var instructionCount: Int { program.count }

    init(_ pattern: String) throws(CELError) {
        var parser = CELRegexParser(Array(pattern.unicodeScalars))
        let tree = try parser.parse()
        try emit(tree)
        program.append(.match)
    }

    // MARK: Compilation

    private mutating func append(_ instruction: Instruction) throws(CELError) -> Int {
        guard program.count < Self.maxInstructions else {
            throw CELError("regular expression too large (over \(Self.maxInstructions) instructions once repetitions are expanded)")
        }
        program.append(instruction)
        return program.count - 1
    }

    private mutating func emit(_ node: CELRegexNode) throws(CELError) {
        switch node {
        case .empty: break
        case .scalar(let s, let ci): _ = try append(.scalar(s, caseInsensitive: ci))
        case .set(let set): _ = try append(.set(set))
        case .any(let nl): _ = try append(.any(matchesNewline: nl))
        case .textStart: _ = try append(.assert(.textStart))
        case .textEnd: _ = try append(.assert(.textEnd))
        case .lineStart: _ = try append(.assert(.lineStart))
        case .lineEnd: _ = try append(.assert(.lineEnd))
        case .wordBoundary(let yes): _ = try append(.assert(yes ? .wordBoundary : .notWordBoundary))
        case .concat(let parts):
            for part in parts { try emit(part) }
        case .alternate(let branches):
            // split L1, next; L1: a; jump end; next: split L2, … ; last branch
            var jumps: [Int] = []
            for (i, branch) in branches.enumerated() {
                if i < branches.count - 1 {
                    let split = try append(.split(0, 0))
                    try emit(branch)
                    jumps.append(try append(.jump(0)))
                    program[split] = .split(split + 1, program.count)
                } else {
                    try emit(branch)
                }
            }
            for jump in jumps { program[jump] = .jump(program.count) }
        case .repeat(let inner, let min, let max):
            for _ in 0..<min { try emit(inner) }
            if let max {
                // Each optional copy: split into it or past all the rest.
                var splits: [Int] = []
                for _ in min..<max {
                    splits.append(try append(.split(0, 0)))
                    try emit(inner)
                }
                for split in splits { program[split] = .split(split + 1, program.count) }
            } else {
                let loop = try append(.split(0, 0))
                try emit(inner)
                _ = try append(.jump(loop))
                program[loop] = .split(loop + 1, program.count)
            }
        }
    }

    // MARK: Matching

    /// Whether the pattern matches anywhere in `text`.
    func matches(_ text: String) -> Bool {
        let input = Array(text.unicodeScalars)
        var current: [Int] = [], next: [Int] = []
        var onList = [Int](repeating: -1, count: program.count)
        var generation = 0
        for position in 0...input.count {
            // Unanchored search: a new thread starts at every position.
            addThread(0, position, input, &current, &onList, generation)
            if current.isEmpty && position == input.count { break }
            generation += 1
            next.removeAll(keepingCapacity: true)
            for pc in current {
                switch program[pc] {
                case .match:
                    return true
                case .scalar(let s, let ci):
                    if position < input.count, Self.equal(input[position], s, ci) { addThread(pc + 1, position + 1, input, &next, &onList, generation) }
                case .set(let set):
                    if position < input.count, set.contains(input[position]) { addThread(pc + 1, position + 1, input, &next, &onList, generation) }
                case .any(let matchesNewline):
                    if position < input.count, matchesNewline || input[position] != "\n" {
                        addThread(pc + 1, position + 1, input, &next, &onList, generation)
                    }
                default:
                    break
                }
            }
            swap(&current, &next)
        }
        return false
    }

    /// Adds `pc` and everything reachable from it without consuming input (iteratively, so deep
    /// programs cannot exhaust the stack).
    private func addThread(_ start: Int, _ position: Int, _ input: [Unicode.Scalar], _ list: inout [Int], _ onList: inout [Int], _ generation: Int) {
        var stack = [start]
        while let pc = stack.popLast() {
            guard onList[pc] != generation else { continue }
            onList[pc] = generation
            switch program[pc] {
            case .jump(let target): stack.append(target)
            case .split(let a, let b):
                stack.append(b)
                stack.append(a)
            case .assert(let assertion):
                if holds(assertion, position, input) { stack.append(pc + 1) }
            default:
                list.append(pc)
            }
        }
    }

    private func holds(_ assertion: Assertion, _ position: Int, _ input: [Unicode.Scalar]) -> Bool {
        switch assertion {
        case .textStart: return position == 0
        case .textEnd: return position == input.count
        case .lineStart: return position == 0 || input[position - 1] == "\n"
        case .lineEnd: return position == input.count || input[position] == "\n"
        case .wordBoundary, .notWordBoundary:
            let before = position > 0 && Self.isWord(input[position - 1])
            let after = position < input.count && Self.isWord(input[position])
            return (before != after) == (assertion == .wordBoundary)
        }
    }

    static func isWord(_ s: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(s) || ("A"..."Z").contains(s) || ("0"..."9").contains(s) || s == "_"
    }

    private static func equal(_ a: Unicode.Scalar, _ b: Unicode.Scalar, _ caseInsensitive: Bool) -> Bool {
        a == b || (caseInsensitive && lower(a) == lower(b))
    }

    static func lower(_ s: Unicode.Scalar) -> Unicode.Scalar {
        let mapped = s.properties.lowercaseMapping.unicodeScalars
        return mapped.count == 1 ? (mapped.first ?? s) : s
    }

    static func upper(_ s: Unicode.Scalar) -> Unicode.Scalar {
        let mapped = s.properties.uppercaseMapping.unicodeScalars
        return mapped.count == 1 ? (mapped.first ?? s) : s
    }
}

indirect enum CELRegexNode {
    case empty
    case scalar(Unicode.Scalar, Bool)
    case set(CELRegex.ScalarSet)
    case any(Bool)
    case textStart, textEnd, lineStart, lineEnd
    case wordBoundary(Bool)
    case concat([CELRegexNode])
    case alternate([CELRegexNode])
    case `repeat`(CELRegexNode, min: Int, max: Int?)
}
