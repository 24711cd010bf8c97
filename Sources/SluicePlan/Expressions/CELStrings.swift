/// String functions: the standard `matches`, and the common extension functions (`lowerAscii`,
/// `upperAscii`, `trim`, `replace`, `split`, `indexOf`, `lastIndexOf`, `substring`, `charAt`).
/// Positions count Unicode code points, as CEL's `size()` does.
enum CELStrings {
    /// Longest pattern `matches()` accepts.
    static let maxPatternLength = 1_000

    /// The first position of `needle` in `haystack`, comparing UTF-8 bytes (code point exact).
    static func firstIndex(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        CELSubstringSearch(needle).firstIndex(in: haystack)
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
            if name == "indexOf", let bytes = asciiBytes(text) {
                // ASCII: a code point is a byte, so byte positions are the answer.
                var from = 0
                if arguments.count == 2 {
                    guard case .int(let n) = arguments[1] else { break }
                    guard n >= 0, n <= bytes.count else { throw CELError("index \(n) out of range in \(name)()") }
                    from = Int(n)
                }
                return .int(Int64(CELSubstringSearch(Array(needle.utf8)).firstIndex(in: bytes, from: from) ?? -1))
            }
            let scalars = Array(text.unicodeScalars), target = Array(needle.unicodeScalars)
            var from: Int? = nil
            if arguments.count == 2 {
                guard case .int(let n) = arguments[1] else { break }
                guard n >= 0, n <= scalars.count else { throw CELError("index \(n) out of range in \(name)()") }
                from = Int(n)
            }
            return .int(Int64(name == "indexOf" ? indexOf(target, in: scalars, from: from ?? 0) : lastIndexOf(target, in: scalars, from: from ?? scalars.count)))
        case ("substring", 1), ("substring", 2):
            guard case .int(let start) = arguments[0] else { break }
            let ascii = isASCII(text)
            let count = ascii ? text.utf8.count : text.unicodeScalars.count
            var end = Int64(count)
            if arguments.count == 2 {
                guard case .int(let e) = arguments[1] else { break }
                end = e
            }
            guard start >= 0, end <= count, start <= end else {
                throw CELError("substring(\(start), \(end)) out of range for a string of size \(count)")
            }
            if ascii {
                let utf8 = text.utf8
                let from = utf8.index(utf8.startIndex, offsetBy: Int(start))
                return .string(String(Substring(utf8[from..<utf8.index(from, offsetBy: Int(end - start))])))
            }
            let scalars = text.unicodeScalars
            let from = scalars.index(scalars.startIndex, offsetBy: Int(start))
            return .string(String(scalars[from..<scalars.index(from, offsetBy: Int(end - start))]))
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
        CELSubstringSearch(needle).firstIndex(in: scalars, from: from) ?? -1
    }

    private static func lastIndexOf(_ needle: [Unicode.Scalar], in scalars: [Unicode.Scalar], from: Int) -> Int {
        // The last match starting at or before `from` is the first match in the reversed text
        // that ends at or after the reversed position.
        let last = min(from, scalars.count - needle.count)
        guard last >= 0 else { return -1 }
        let reversedStart = scalars.count - (last + needle.count)
        guard let reversed = CELSubstringSearch(needle.reversed()).firstIndex(in: scalars.reversed(), from: reversedStart) else { return -1 }
        return scalars.count - reversed - needle.count
    }

    /// The start of every non-overlapping occurrence of `needle`, left to right, at most `limit`.
    private static func occurrences<Element: Equatable>(of needle: [Element], in scalars: [Element], limit: Int) -> [Int] {
        let search = CELSubstringSearch(needle)
        var found: [Int] = []
        var from = 0
        while found.count < limit, let start = search.firstIndex(in: scalars, from: from) {
            found.append(start)
            from = start + needle.count
        }
        return found
    }

    /// The bytes of `text` when it is all ASCII (then a code point is a byte), else nil.
    private static func asciiBytes(_ text: String) -> [UInt8]? {
        let bytes = Array(text.utf8)
        for byte in bytes where byte >= 0x80 { return nil }
        return bytes
    }

    private static func isASCII(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 < 0x80 }
    }

    static func split(_ text: String, _ separator: String, limit: Int) -> [String] {
        if !separator.isEmpty, let bytes = asciiBytes(text) {
            // ASCII text: pieces cut from its bytes (building them scalar by scalar was most of the time).
            var parts: [String] = []
            var start = 0
            for match in occurrences(of: Array(separator.utf8), in: bytes, limit: limit == Int.max ? limit : limit - 1) {
                parts.append(String(decoding: bytes[start..<match], as: UTF8.self))
                start = match + separator.utf8.count
            }
            parts.append(String(decoding: bytes[start...], as: UTF8.self))
            return parts
        }
        let scalars = Array(text.unicodeScalars), sep = Array(separator.unicodeScalars)
        func piece(_ range: Range<Int>) -> String { String(String.UnicodeScalarView(scalars[range])) }
        if sep.isEmpty {
            // Splitting on "" yields the code points, the last piece keeping the rest.
            guard scalars.count > limit else { return scalars.map { String($0) } }
            return scalars[..<(limit - 1)].map { String($0) } + [piece((limit - 1)..<scalars.count)]
        }
        var parts: [String] = []
        var start = 0
        for match in occurrences(of: sep, in: scalars, limit: limit == Int.max ? limit : limit - 1) {
            parts.append(piece(start..<match))
            start = match + sep.count
        }
        parts.append(piece(start..<scalars.count))
        return parts
    }

    static func replace(_ text: String, _ old: String, _ new: String, limit: Int) -> String {
        let scalars = Array(text.unicodeScalars), target = Array(old.unicodeScalars)
        guard !target.isEmpty else { return text }
        var result = String.UnicodeScalarView()
        var start = 0
        for match in occurrences(of: target, in: scalars, limit: limit) {
            result.append(contentsOf: scalars[start..<match])
            result.append(contentsOf: new.unicodeScalars)
            start = match + target.count
        }
        result.append(contentsOf: scalars[start...])
        return String(result)
    }

    /// How many units of work `replace` would spend: the text plus every inserted copy.
    static func replaceCost(_ text: String, _ old: String, _ new: String, limit: Int) -> Int {
        let target = Array(old.unicodeScalars)
        guard !target.isEmpty else { return text.utf8.count }
        let count = occurrences(of: target, in: Array(text.unicodeScalars), limit: limit).count
        return text.utf8.count + count * new.utf8.count
    }
}

/// Substring search in linear time (Knuth–Morris–Pratt), so hostile text cannot make
/// `contains`, `indexOf`, `split` or `replace` quadratic.
struct CELSubstringSearch<Element: Equatable> {
    private let needle: [Element]
    /// For each prefix length, the length of its longest proper prefix that is also a suffix.
    private let fallback: [Int]

    init(_ needle: [Element]) {
        self.needle = needle
        var fallback = [Int](repeating: 0, count: max(needle.count, 1))
        var length = 0
        var i = 1
        while i < needle.count {
            if needle[i] == needle[length] {
                length += 1
                fallback[i] = length
                i += 1
            } else if length > 0 {
                length = fallback[length - 1]
            } else {
                fallback[i] = 0
                i += 1
            }
        }
        self.fallback = fallback
    }

    /// The first position at or after `from` where the needle starts.
    func firstIndex(in haystack: [Element], from: Int = 0) -> Int? {
        guard from >= 0, from <= haystack.count else { return nil }
        if needle.isEmpty { return from }
        var matched = 0
        var i = from
        while i < haystack.count {
            if haystack[i] == needle[matched] {
                matched += 1
                i += 1
                if matched == needle.count { return i - matched }
            } else if matched > 0 {
                matched = fallback[matched - 1]
            } else {
                i += 1
            }
        }
        return nil
    }
}
