import Foundation

/// Turns HTML into readable plain text: no tags, scripts or styles; entities decoded; blank
/// lines between blocks. Good enough for feeding a model, not a browser.
enum HTMLText {
    private static let blockTags: Set<String> = [
        "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table",
        "section", "article", "header", "footer", "blockquote", "pre", "hr", "title",
    ]
    private static let entities: [String: String] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": " ", "#39": "'",
        "mdash": "—", "ndash": "–", "hellip": "…", "copy": "©",
    ]

    /// The text of `html`.
    static func plainText(_ html: String) -> String {
        var output = ""
        var index = html.startIndex
        while index < html.endIndex {
            let character = html[index]
            if character == "<", let close = html[index...].firstIndex(of: ">") {
                let tag = tagName(html[html.index(after: index)..<close])
                var next = html.index(after: close)
                if tag == "script" || tag == "style" {
                    // Skip the element's content up to its end tag.
                    if let end = html.range(of: "</\(tag)", options: .caseInsensitive, range: next..<html.endIndex),
                        let endClose = html[end.upperBound...].firstIndex(of: ">")
                    {
                        next = html.index(after: endClose)
                    } else {
                        next = html.endIndex
                    }
                } else if blockTags.contains(tag) {
                    output += "\n"
                }
                index = next
            } else if character == "&", let semicolon = html[index...].prefix(10).firstIndex(of: ";"),
                let decoded = entity(String(html[html.index(after: index)..<semicolon]))
            {
                output += decoded
                index = html.index(after: semicolon)
            } else {
                output.append(character)
                index = html.index(after: index)
            }
        }
        return normalizeWhitespace(output)
    }

    private static func tagName(_ inside: Substring) -> String {
        let trimmed = inside.drop { $0 == "/" || $0 == " " }
        return String(trimmed.prefix { $0.isLetter || $0.isNumber }).lowercased()
    }

    static func entity(_ name: String) -> String? {
        if let known = entities[name] { return known }
        if name.hasPrefix("#x"), let code = UInt32(name.dropFirst(2), radix: 16), let scalar = Unicode.Scalar(code) {
            return String(Character(scalar))
        }
        if name.hasPrefix("#"), let code = UInt32(name.dropFirst()), let scalar = Unicode.Scalar(code) {
            return String(Character(scalar))
        }
        return nil
    }

    /// Collapses runs of spaces inside lines and keeps at most one blank line between blocks.
    private static func normalizeWhitespace(_ text: String) -> String {
        var lines: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            let collapsed = words.joined(separator: " ")
            if collapsed.isEmpty {
                if let last = lines.last, !last.isEmpty { lines.append("") }
            } else {
                lines.append(collapsed)
            }
        }
        while lines.last == "" { lines.removeLast() }
        return lines.joined(separator: "\n")
    }
}
