import Foundation

/// Reads `.env` files: `NAME=value` lines, `#` comments, an optional `export ` prefix, values
/// optionally in single quotes (taken literally) or double quotes (with `\n`, `\"`, `\\`).
/// An unquoted value ends at ` #` (an inline comment) and is trimmed.
enum DotEnvFile {
    /// The variables in `text`, or an error naming the first line that is not `NAME=value`.
    static func parse(_ text: String, file: String) throws(ProviderError) -> [String: String] {
        var values: [String: String] = [:]
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = Substring(rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine)
            line = line.drop { $0 == " " || $0 == "\t" }
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = line.dropFirst("export ".count).drop { $0 == " " } }
            guard let equals = line.firstIndex(of: "=") else {
                throw ProviderError(.invalidRequest, "\(file):\(index + 1): expected NAME=value", provider: "configuration")
            }
            let name = line[..<equals].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw ProviderError(.invalidRequest, "\(file):\(index + 1): '\(name)' is not a variable name", provider: "configuration")
            }
            values[name] = value(line[line.index(after: equals)...])
        }
        return values
    }

    private static func value(_ raw: Substring) -> String {
        let trimmed = raw.trimmingCharacters(in: .whitespaces)
        if trimmed.count >= 2, trimmed.hasPrefix("'"), let close = trimmed.dropFirst().firstIndex(of: "'") {
            return String(trimmed[trimmed.index(after: trimmed.startIndex)..<close])
        }
        if trimmed.count >= 2, trimmed.hasPrefix("\"") {
            var result = ""
            var escaped = false
            for character in trimmed.dropFirst() {
                if escaped {
                    result.append(character == "n" ? "\n" : character == "t" ? "\t" : character)
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == "\"" {
                    return result
                } else {
                    result.append(character)
                }
            }
            return trimmed
        }
        if let comment = trimmed.range(of: " #") { return trimmed[..<comment.lowerBound].trimmingCharacters(in: .whitespaces) }
        return trimmed
    }
}
