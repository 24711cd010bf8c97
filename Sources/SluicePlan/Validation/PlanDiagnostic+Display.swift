extension PlanDiagnostic {
    /// `text` made safe to print on one terminal line: every control character written as an escape.
    ///
    /// Messages quote step ids, keys and values straight from the plan, so without this a plan
    /// could move the cursor or recolour the terminal (`ESC [`), or forge a whole diagnostic
    /// with a line break in a key (`"x\nplan.json:1:1: error: …"`). Escaped: C0 controls and
    /// DEL, C1 controls, the Unicode line and paragraph separators, and the bidirectional
    /// formatting characters that can make text display in an order other than it reads
    /// ("Trojan Source"). `\n`, `\r` and `\t` get their short forms, the rest `\u{1B}`.
    /// Backslashes are left alone: the output is for a person, not a parser.
    public static func displayable(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var result = ""
        result.unicodeScalars.reserveCapacity(text.unicodeScalars.count + 8)
        for scalar in text.unicodeScalars {
            guard needsEscape(scalar) else {
                result.unicodeScalars.append(scalar)
                continue
            }
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default: result += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            }
        }
        return result
    }

    private static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: true
        // Line and paragraph separators; bidi embeddings, overrides and isolates; the
        // left-to-right, right-to-left and Arabic letter marks.
        case 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069, 0x200E, 0x200F, 0x061C: true
        default: false
        }
    }
}
