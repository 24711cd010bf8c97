import SluiceJSON

/// The text a template prints for a number, an array or an object.
///
/// Arrays and objects print as compact JSON, so a prompt can hand a model a step's whole
/// structured output with `{{steps.outline.output}}`. Strings inside them are JSON-quoted;
/// a top-level string prints as is (see ``TemplateScalar``).
enum TemplateJSONText {
    static func text(of value: JSONValue) -> String {
        var text = ""
        write(value, to: &text)
        return text
    }

    /// A double in the shortest form that reads back as the same number (`8.2`, `0.1`,
    /// `1e+20`), except that whole numbers below 10^15 print without a fraction (`3`, not `3.0`),
    /// as people and JSON writers expect.
    static func text(of number: Double) -> String {
        if number.isFinite, number == number.rounded(.towardZero), abs(number) < 1e15 {
            return String(Int64(number))
        }
        return number.description
    }

    private static func write(_ value: JSONValue, to text: inout String) {
        switch value {
        case .null: text += "null"
        case .bool(let flag): text += flag ? "true" : "false"
        case .integer(let number): text += String(number)
        case .double(let number): text += Self.text(of: number)
        case .string(let string): writeQuoted(string, to: &text)
        case .array(let elements):
            text += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { text += "," }
                write(element, to: &text)
            }
            text += "]"
        case .object(let object):
            text += "{"
            for (index, member) in object.members.enumerated() {
                if index > 0 { text += "," }
                writeQuoted(member.key, to: &text)
                text += ":"
                write(member.value, to: &text)
            }
            text += "}"
        }
    }

    private static func writeQuoted(_ string: String, to text: inout String) {
        text += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case "\u{08}": text += "\\b"
            case "\u{0C}": text += "\\f"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: text.unicodeScalars.append(scalar)
            }
        }
        text += "\""
    }
}
