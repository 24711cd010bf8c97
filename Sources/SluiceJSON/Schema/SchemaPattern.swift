/// A compiled `pattern`/`patternProperties` regular expression.
///
/// JSON Schema patterns are ECMA-262 regexes, matched as a search (unanchored), as in
/// ECMA-262 `test`. They run on ``LinearRegex`` rather than a backtracking engine: a schema
/// can come with a request and the text is a model's answer, and on ICU `(.*a){16}$` took
/// 46 s against 41 characters. Backreferences and lookaround cannot run in linear time, so
/// such patterns are refused when the schema is compiled.
struct SchemaPattern: Sendable {
    let source: String
    private let regex: LinearRegex

    /// - Throws: ``LinearRegex/Error`` when `source` is not a valid pattern, needs backtracking,
    ///   or expands past ``LinearRegex/maxInstructions``; the compiler words it with
    ///   ``message(for:source:)`` and adds the pointer.
    init(_ source: String) throws(LinearRegex.Error) {
        self.source = source
        self.regex = try LinearRegex(source, syntax: .ecmaScript)
    }

    func matches(_ text: String) -> Bool {
        regex.matches(text)
    }

    /// The compile error for `source`, worded for a schema author.
    static func message(for error: LinearRegex.Error, source: String) -> String {
        switch error.kind {
        case .syntax:
            "'\(source)' is not a valid regular expression: \(error.message) at position \(error.position)"
        case .unsupported:
            "pattern '\(source)' uses \(error.message), which Sluice does not support: patterns run on a linear-time engine"
        case .tooLarge:
            "pattern '\(source)' is too large for the linear-time engine: over \(LinearRegex.maxInstructions) instructions once counted repetitions such as {1,1000} are expanded"
        }
    }
}
