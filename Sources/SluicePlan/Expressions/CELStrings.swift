/// String functions: the standard `matches`, and the common extension functions (`lowerAscii`,
/// `upperAscii`, `trim`, `replace`, `split`, `indexOf`, `lastIndexOf`, `substring`, `charAt`).
/// Positions count Unicode code points, as CEL's `size()` does.
enum CELStrings {
    /// Longest pattern `matches()` accepts.
    static let maxPatternLength = 1_000

    /// The first position of `needle` in `haystack`, comparing UTF-8 bytes (code point exact).
    static func firstIndex(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        if needle.isEmpty { return 0 }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return start }
        }
        return nil
    }

    /// Compiles `pattern` for ``CELRegex/matches(_:)`` (RE2 syntax, linear-time matching).
    static func regex(_ pattern: String) throws(CELError) -> CELRegex {
        guard pattern.unicodeScalars.count <= maxPatternLength else {
            throw CELError("regular expression longer than \(maxPatternLength) characters")
        }
        return try CELRegex(pattern)
    }

    static func extensionFunction(_ name: String, _ text: String, _ arguments: [CELValue]) throws(CELError) -> CELValue {
        switch (name, arguments.count) {
        case ("lowerAscii", 0):
            return .string(shiftASCII(text, from: "A"..."Z", by: 32))
        case ("upperAscii", 0):
            return .string(shiftASCII(text, from: "a"..."z", by: -32))
        case ("trim", 0):
            let scalars = Array(text.unicodeScalars)
            guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
                let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
            else { return .string("") }
            return .string(String(String.UnicodeScalarView(scalars[first...last])))
        case ("replace", 2), ("replace", 3):
            guard case .string(let old) = arguments[0], case .string(let new) = arguments[1] else { break }
            var limit = Int.max
            if arguments.count == 3 {
                guard case .int(let n) = arguments[2] else { break }
                limit = n < 0 ? Int.max : Int(n)
            }
            return .string(replace(text, old, new, limit: limit))
        case ("split", 1), ("split", 2):
            guard case .string(let separator) = arguments[0] else { break }
            var limit = Int.max
            if arguments.count == 2 {
                guard case .int(let n) = arguments[1] else { break }
                if n == 0 { return .list([]) }
                limit = n < 0 ? Int.max : Int(n)
            }
            return .list(split(text, separator, limit: limit).map { .string($0) })
        case ("indexOf", 1), ("indexOf", 2), ("lastIndexOf", 1), ("lastIndexOf", 2):
            guard case .string(let needle) = arguments[0] else { break }
            let scalars = Array(text.unicodeScalars), target = Array(needle.unicodeScalars)
            var from: Int? = nil
            if arguments.count == 2 {
                guard case .int(let n) = arguments[1] else { break }
                guard n >= 0, n <= scalars.count else { throw CELError("index \(n) out of range in \(name)()") }
                from = Int(n)
            }
            return .int(Int64(name == "indexOf" ? indexOf(target, in: scalars, from: from ?? 0) : lastIndexOf(target, in: scalars, from: from ?? scalars.count)))
        case ("substring", 1), ("substring", 2):
            let scalars = Array(text.unicodeScalars)
            guard case .int(let start) = arguments[0] else { break }
            var end = Int64(scalars.count)
            if arguments.count == 2 {
                guard case .int(let e) = arguments[1] else { break }
                end = e
            }
            guard start >= 0, end <= scalars.count, start <= end else {
                throw CELError("substring(\(start), \(end)) out of range for a string of size \(scalars.count)")
            }
            return .string(String(String.UnicodeScalarView(scalars[Int(start)..<Int(end)])))
        case ("charAt", 1):
            let scalars = Array(text.unicodeScalars)
            guard case .int(let i) = arguments[0] else { break }
            guard i >= 0, i <= scalars.count else { throw CELError("charAt(\(i)) out of range for a string of size \(scalars.count)") }
            return .string(i == scalars.count ? "" : String(scalars[Int(i)]))
        default:
            if !CELFunctions.methodNames.contains(name) { throw CELError("unbound function '\(name)'") }
        }
        throw .noOverload(name, [.string(text)] + arguments)
    }

    /// `text` with the ASCII letters in `letters` moved by `offset` (changing their case).
    private static func shiftASCII(_ text: String, from letters: ClosedRange<Unicode.Scalar>, by offset: Int32) -> String {
        let scalars = text.unicodeScalars.map { scalar in
            letters.contains(scalar) ? Unicode.Scalar(UInt8(Int32(scalar.value) + offset)) : scalar
        }
        return String(String.UnicodeScalarView(scalars))
    }

    private static func indexOf(_ needle: [Unicode.Scalar], in scalars: [Unicode.Scalar], from: Int) -> Int {
        guard needle.count <= scalars.count - from else { return -1 }
        for start in from...(scalars.count - needle.count) where scalars[start..<(start + needle.count)].elementsEqual(needle) {
            return start
        }
        return -1
    }

    private static func lastIndexOf(_ needle: [Unicode.Scalar], in scalars: [Unicode.Scalar], from: Int) -> Int {
        let last = min(from, scalars.count - needle.count)
        guard last >= 0 else { return -1 }
        for start in stride(from: last, through: 0, by: -1) where scalars[start..<(start + needle.count)].elementsEqual(needle) {
            return start
        }
        return -1
    }

    private static func split(_ text: String, _ separator: String, limit: Int) -> [String] {
        let scalars = Array(text.unicodeScalars), sep = Array(separator.unicodeScalars)
        if sep.isEmpty {
            // Splitting on "" yields the code points, the last piece keeping the rest.
            var parts: [String] = []
            var i = 0
            while i < scalars.count {
                if parts.count == limit - 1 {
                    parts.append(String(String.UnicodeScalarView(scalars[i...])))
                    return parts
                }
                parts.append(String(scalars[i]))
                i += 1
            }
            return parts
        }
        var parts: [String] = []
        var start = 0
        var i = 0
        while i + sep.count <= scalars.count, parts.count < limit - 1 {
            if scalars[i..<(i + sep.count)].elementsEqual(sep) {
                parts.append(String(String.UnicodeScalarView(scalars[start..<i])))
                i += sep.count
                start = i
            } else {
                i += 1
            }
        }
        parts.append(String(String.UnicodeScalarView(scalars[start...])))
        return parts
    }

    private static func replace(_ text: String, _ old: String, _ new: String, limit: Int) -> String {
        let scalars = Array(text.unicodeScalars), target = Array(old.unicodeScalars)
        var result = String.UnicodeScalarView()
        var i = 0, count = 0
        while i < scalars.count {
            if count < limit, !target.isEmpty, i + target.count <= scalars.count, scalars[i..<(i + target.count)].elementsEqual(target) {
                result.append(contentsOf: new.unicodeScalars)
                i += target.count
                count += 1
            } else {
                result.append(scalars[i])
                i += 1
            }
        }
        return String(result)
    }
}
