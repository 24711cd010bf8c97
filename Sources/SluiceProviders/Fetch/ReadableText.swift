import Foundation

/// Turns a web page into the text a reader would read: headings (as `#` lines), paragraphs,
/// list items (`- `) and table rows (cells separated by ` | `) are kept; scripts, styles,
/// navigation, headers, footers, asides, forms and comments are dropped.
enum ReadableText {
    /// Elements whose whole content is dropped.
    private static let dropped: Set<String> = [
        "script", "style", "noscript", "nav", "header", "footer", "aside", "form", "svg", "iframe",
        "template", "button", "select", "canvas", "object",
    ]
    private static let blocks: Set<String> = [
        "p", "div", "section", "article", "main", "blockquote", "pre", "br", "hr", "ul", "ol", "table",
        "figure", "figcaption", "dl", "dt", "dd", "address", "details", "summary",
    ]

    /// The page's `<title>` and its readable text.
    static func extract(_ html: String) -> (title: String, text: String) {
        var output = ""
        var title = ""
        var inTitle = false
        var cellsInRow = 0
        var index = html.startIndex
        while index < html.endIndex {
            let character = html[index]
            guard character == "<" else {
                if character == "&", let (decoded, next) = entity(in: html, at: index) {
                    if inTitle { title += decoded } else { output += decoded }
                    index = next
                } else {
                    if inTitle { title.append(character) } else { output.append(character) }
                    index = html.index(after: index)
                }
                continue
            }
            if html[index...].hasPrefix("<!--") {
                index = html.range(of: "-->", range: index..<html.endIndex)?.upperBound ?? html.endIndex
                continue
            }
            guard let close = html[index...].firstIndex(of: ">") else {
                output.append(character)
                index = html.index(after: index)
                continue
            }
            let inside = html[html.index(after: index)..<close]
            let closing = inside.hasPrefix("/")
            let name = String(inside.drop { $0 == "/" || $0 == " " }.prefix { $0.isLetter || $0.isNumber }).lowercased()
            index = html.index(after: close)
            if !closing, dropped.contains(name), !inside.hasSuffix("/") {
                index = endOfElement(name, in: html, from: index)
                continue
            }
            switch name {
            case "title":
                inTitle = !closing
            case "h1", "h2", "h3", "h4", "h5", "h6":
                let level = Int(String(name.dropFirst())) ?? 1
                output += closing ? "\n\n" : "\n\n" + String(repeating: "#", count: level) + " "
            case "li":
                if !closing { output += "\n- " }
            case "tr":
                if !closing { output += "\n" }
                cellsInRow = 0
            case "td", "th":
                if !closing {
                    if cellsInRow > 0 { output += " | " }
                    cellsInRow += 1
                }
            default:
                if blocks.contains(name) { output += name == "p" ? "\n\n" : "\n" }
            }
        }
        return (collapse(title).trimmingCharacters(in: .whitespaces), normalize(output))
    }

    /// The index after the end tag matching `name` (nested elements of the same name included).
    private static func endOfElement(_ name: String, in html: String, from start: String.Index) -> String.Index {
        var depth = 1
        var index = start
        while let open = html.range(of: "<", range: index..<html.endIndex) {
            let rest = html[open.upperBound...]
            let closing = rest.hasPrefix("/")
            let tag = String(rest.drop { $0 == "/" }.prefix { $0.isLetter || $0.isNumber }).lowercased()
            index = open.upperBound
            guard tag == name else { continue }
            depth += closing ? -1 : 1
            if depth == 0 {
                return html[index...].firstIndex(of: ">").map { html.index(after: $0) } ?? html.endIndex
            }
        }
        return html.endIndex
    }

    private static func entity(in html: String, at index: String.Index) -> (String, String.Index)? {
        let start = html.index(after: index)
        guard let semicolon = html[start...].prefix(12).firstIndex(of: ";"),
            let decoded = HTMLText.entity(String(html[start..<semicolon]))
        else { return nil }
        return (decoded, html.index(after: semicolon))
    }

    private static func collapse(_ text: String) -> String {
        text.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    /// Collapses spaces within lines and keeps at most one blank line between blocks.
    private static func normalize(_ text: String) -> String {
        var lines: [String] = []
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let collapsed = collapse(String(line))
            if collapsed.isEmpty {
                if let last = lines.last, !last.isEmpty { lines.append("") }
            } else {
                lines.append(collapsed)
            }
        }
        while lines.last == "" { lines.removeLast() }
        while lines.first == "" { lines.removeFirst() }
        return lines.joined(separator: "\n")
    }
}
