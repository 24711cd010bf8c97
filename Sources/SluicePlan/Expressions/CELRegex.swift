import SluiceJSON

/// A regular expression for `matches()`: RE2 syntax on SluiceJSON's ``LinearRegex``, which runs
/// in time linear in the text, as CEL specifies by naming RE2 (no backtracking, so `(a+)+$` on
/// hostile text is as fast as any other pattern).
///
/// This only words the engine's errors as CEL errors; the engine is the one JSON Schema
/// `pattern` uses.
struct CELRegex {
    private let regex: LinearRegex

    /// Size of the compiled program; matching costs about text length × this.
    var instructionCount: Int { regex.instructionCount }

    init(_ pattern: String) throws(CELError) {
        do {
            regex = try LinearRegex(pattern, syntax: .re2)
        } catch {
            switch error.kind {
            case .syntax:
                throw CELError("invalid regular expression: \(error.message) at position \(error.position)")
            case .unsupported:
                throw CELError("invalid regular expression: uses \(error.message), which RE2 does not support (matches() runs on a linear-time engine), at position \(error.position)")
            case .tooLarge:
                throw CELError("regular expression too large (over \(LinearRegex.maxInstructions) instructions once repetitions are expanded)")
            }
        }
    }

    /// Whether the pattern matches anywhere in `text`.
    func matches(_ text: String) -> Bool {
        regex.matches(text)
    }
}
