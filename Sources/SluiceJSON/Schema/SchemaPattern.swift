import Foundation

/// A compiled `pattern`/`patternProperties` regular expression.
///
/// JSON Schema patterns are ECMA-262 regexes. ICU (behind `NSRegularExpression`) reads the
/// same syntax for everything schemas use in practice; where the two differ, `\d` and `\w`
/// are ASCII-only in ECMA-262 but Unicode-aware in ICU, so they are rewritten to ASCII
/// classes before compiling, and `\s` gains U+FEFF, which ECMA-262 counts as white space.
/// Matching is a search (unanchored), as in ECMA-262 `test`.
struct SchemaPattern: Sendable {
    let source: String
    private let regex: NSRegularExpression

    /// - Throws: the regex engine's error when `source` is not a valid regular expression.
    init(_ source: String) throws {
        self.source = source
        self.regex = try NSRegularExpression(pattern: Self.translated(source))
    }

    func matches(_ text: String) -> Bool {
        let range = NSRange(text.startIndex..<text.endIndex, in: text)
        return regex.firstMatch(in: text, options: [], range: range) != nil
    }

    /// Rewrites the ECMA-262 escapes whose meaning differs in ICU.
    private static func translated(_ source: String) -> String {
        guard source.contains("\\") else { return source }
        var output = ""
        var inClass = false
        var characters = source.makeIterator()
        while let character = characters.next() {
            switch character {
            case "\\":
                guard let escaped = characters.next() else {
                    output.append(character)
                    break
                }
                switch (escaped, inClass) {
                case ("d", false): output += "[0-9]"
                case ("d", true): output += "0-9"
                case ("D", false): output += "[^0-9]"
                case ("w", false): output += "[A-Za-z0-9_]"
                case ("w", true): output += "A-Za-z0-9_"
                case ("W", false): output += "[^A-Za-z0-9_]"
                case ("s", false): output += "[\\s\\x{FEFF}]"
                case ("s", true): output += "\\s\\x{FEFF}"
                case ("S", false): output += "[^\\s\\x{FEFF}]"
                default:
                    output.append(character)
                    output.append(escaped)
                }
            case "[":
                inClass = true
                output.append(character)
            case "]":
                inClass = false
                output.append(character)
            default:
                output.append(character)
            }
        }
        return output
    }
}
