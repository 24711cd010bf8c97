import Foundation

/// ANSI styling for the terminal view; every method returns the text unchanged when colours are off.
struct TerminalStyle: Sendable {
    var useColor: Bool

    func green(_ text: String) -> String { wrap(text, "32") }
    func red(_ text: String) -> String { wrap(text, "31") }
    func yellow(_ text: String) -> String { wrap(text, "33") }
    func cyan(_ text: String) -> String { wrap(text, "36") }
    func dim(_ text: String) -> String { wrap(text, "2") }
    func bold(_ text: String) -> String { wrap(text, "1") }

    private func wrap(_ text: String, _ code: String) -> String {
        useColor ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }

    /// Moves the cursor to the start of the line `lines` lines up and clears from there down.
    static func eraseUp(_ lines: Int) -> String {
        lines > 0 ? "\u{1B}[\(lines)F\u{1B}[J" : "\r\u{1B}[J"
    }
}

/// Number formatting shared by the terminal view.
enum TerminalFormat {
    /// `0.4s`, `12.3s`, `2m05s`.
    static func duration(seconds: Double) -> String {
        if seconds < 60 { return String(format: "%.1fs", max(0, seconds)) }
        let whole = Int(seconds.rounded())
        return "\(whole / 60)m" + String(format: "%02ds", whole % 60)
    }

    /// `12,345`.
    static func count(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return value < 0 ? "-" + out : out
    }

    /// `$0.0123` (four decimals below a dollar, two above).
    static func usd(_ value: Double) -> String {
        value < 1 ? String(format: "$%.4f", value) : String(format: "$%.2f", value)
    }

    /// A score such as `7.4`.
    static func score(_ value: Double) -> String { String(format: "%.1f", value) }

    /// `text` cut to `width` characters with an ellipsis.
    static func truncated(_ text: String, width: Int) -> String {
        guard width > 1, text.count > width else { return text }
        return String(text.prefix(width - 1)) + "…"
    }
}
