/// A regular expression matched in time linear in the text: CEL `matches()` (RE2 syntax) and
/// JSON Schema `pattern`/`patternProperties` (ECMA-262 syntax) both run on it.
///
/// Backtracking engines (ICU behind `NSRegularExpression`, Swift's `Regex`) take exponential
/// time on patterns such as `(a+)+$` or `(.*a){16}$` against hostile text, and a model answer
/// or a request is hostile text. This one compiles the pattern to an NFA and simulates it
/// breadth-first (a Pike VM without captures): O(text × program), whatever the pattern.
///
/// ```swift
/// let regex = try LinearRegex("^[a-z][a-z0-9_]*$", syntax: .ecmaScript)
/// regex.matches("step_1")   // true
/// ```
///
/// Supported in both syntaxes: literals and escapes (`\n \t \x41 \.` …), `.`, classes
/// (`[a-z] [^0-9] [\s\S] \d \w \s \D \W \S`), anchors (`^ $ \b \B`), groups (`(…) (?:…)
/// (?<n>…) (?P<n>…)`), alternation, the quantifiers `* + ? {n} {n,} {n,m}` (lazy forms too:
/// the same set of matches) and the flags `i`, `m`, `s` (`(?i)`, `(?i:…)`). RE2 adds `\A \z
/// \a \x{263a} [[:alpha:]]`; ECMA-262 adds `\u0041 \u{1F600} \cC \0 [\b]`, the Unicode
/// property escapes `\p{L} \p{Letter} \P{Nd} \p{White_Space}` and its own `.`/`\s`/`[]`.
///
/// #### Errors
/// ``Error`` from `init`: `.syntax` for a pattern that does not parse; `.unsupported` for a
/// backreference or lookaround, which no linear-time engine can run; `.tooLarge` when counted
/// repetitions expand past ``maxInstructions``.
package struct LinearRegex: Sendable {
    /// Which dialect the pattern is written in.
    package enum Syntax: Sendable {
        /// RE2, as CEL specifies for `matches()`.
        case re2
        /// ECMA-262 with the `u` flag, as JSON Schema specifies for `pattern`.
        case ecmaScript
    }

    /// Why a pattern was not compiled.
    package struct Error: Swift.Error, Sendable, Equatable, CustomStringConvertible {
        package enum Kind: Sendable, Equatable {
            /// Not a valid pattern: `message` says what is wrong.
            case syntax
            /// Valid, but needs backtracking: `message` names the construct, e.g.
            /// "a backreference (\1)".
            case unsupported
            /// Expands past ``LinearRegex/maxInstructions``.
            case tooLarge
        }

        package var kind: Kind
        package var message: String
        /// Offset in the pattern, counted in Unicode scalars.
        package var position: Int

        package var description: String {
            switch kind {
            case .syntax: "\(message) at position \(position)"
            case .unsupported: "uses \(message), which a linear-time engine cannot run (at position \(position))"
            case .tooLarge: message
            }
        }
    }

    /// Largest compiled program accepted. Counted repetitions expand into copies (`a{3}` is
    /// `aaa`), and matching costs text × program, so this bounds both memory and time.
    package static let maxInstructions = 10_000

    /// Largest count in `{n,m}`, as in RE2.
    package static let maxRepeat = 1_000

    enum Instruction: Sendable {
        case scalar(Unicode.Scalar, caseInsensitive: Bool)
        case set(ScalarSet)
        case any
        case split(Int, Int)
        case jump(Int)
        case assert(Assertion)
        case match
    }

    enum Assertion: Sendable { case textStart, textEnd, lineStart, lineEnd, wordBoundary, notWordBoundary }

    /// The parsed pattern.
    indirect enum Node {
        case empty
        case scalar(Unicode.Scalar, Bool)
        case set(ScalarSet)
        case any
        case assert(Assertion)
        case concat([Node])
        case alternate([Node])
        case `repeat`(Node, min: Int, max: Int?)

        /// Whether the node compiles to no instruction at all, so repeating it must not loop
        /// (`(?:(?:){1000}){1000}` would otherwise spin a million times for nothing).
        var isEmpty: Bool {
            switch self {
            case .empty: true
            case .concat(let parts): parts.allSatisfy(\.isEmpty)
            case .repeat(let inner, _, _): inner.isEmpty
            default: false
            }
        }
    }

    private var program: [Instruction] = []

    /// Size of the compiled program; matching costs about text length × this.
    package var instructionCount: Int { program.count }

    /// Compiles `pattern`.
    ///
    /// - Throws: ``Error`` when the pattern does not parse, needs backtracking, or is too large.
    package init(_ pattern: String, syntax: Syntax) throws(Error) {
        var parser = Parser(Array(pattern.unicodeScalars), syntax: syntax)
        let tree = try parser.parse()
        try emit(tree)
        program.append(.match)
    }

    // MARK: Compilation

    private mutating func append(_ instruction: Instruction) throws(Error) -> Int {
        guard program.count < Self.maxInstructions else {
            throw Error(
                kind: .tooLarge,
                message: "too large: over \(Self.maxInstructions) instructions once counted repetitions are expanded",
                position: 0)
        }
        program.append(instruction)
        return program.count - 1
    }

    private mutating func emit(_ node: Node) throws(Error) {
        switch node {
        case .empty: break
        case .scalar(let s, let ci): _ = try append(.scalar(s, caseInsensitive: ci))
        case .set(let set): _ = try append(.set(set.withASCIITable()))
        case .any: _ = try append(.any)
        case .assert(let assertion): _ = try append(.assert(assertion))
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
            guard !inner.isEmpty else { return }
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

    /// Whether the pattern matches anywhere in `text` (a search: anchor with `^…$` for a
    /// full match).
    package func matches(_ text: String) -> Bool {
        let input = Array(text.unicodeScalars)
        var current: [Int] = [], next: [Int] = []
        var onList = [Int](repeating: -1, count: program.count)
        var stack: [Int] = []
        var generation = 0
        for position in 0...input.count {
            // Unanchored search: a new thread starts at every position.
            addThread(0, position, input, &current, &onList, generation, &stack)
            if current.isEmpty && position == input.count { break }
            generation += 1
            next.removeAll(keepingCapacity: true)
            for pc in current {
                let advances: Bool
                switch program[pc] {
                case .match:
                    return true
                case .scalar(let s, let ci):
                    advances = position < input.count && ScalarSet.equal(input[position], s, ci)
                case .set(let set):
                    advances = position < input.count && set.contains(input[position])
                case .any:
                    advances = position < input.count
                default:
                    advances = false
                }
                if advances { addThread(pc + 1, position + 1, input, &next, &onList, generation, &stack) }
            }
            swap(&current, &next)
        }
        return false
    }

    /// Adds `pc` and everything reachable from it without consuming input (iteratively, so deep
    /// programs cannot exhaust the stack).
    private func addThread(
        _ start: Int, _ position: Int, _ input: [Unicode.Scalar], _ list: inout [Int], _ onList: inout [Int],
        _ generation: Int, _ stack: inout [Int]
    ) {
        stack.append(start)
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
            let before = position > 0 && ScalarSet.isWord(input[position - 1])
            let after = position < input.count && ScalarSet.isWord(input[position])
            return (before != after) == (assertion == .wordBoundary)
        }
    }
}
