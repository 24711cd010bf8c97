/// A JSON Pointer (RFC 6901): the path of a node inside a document, such as `/steps/2/prompt`.
///
/// ```swift
/// let pointer = try JSONPointer(parsing: "/a~1b/0")   // tokens ["a/b", "0"]
/// pointer.description                                 // "/a~1b/0"
/// value.value(at: pointer)
/// ```
///
/// Pointers sort in document-friendly order: token by token, array indices numerically
/// (`/2` before `/10`), a parent before its children.
public struct JSONPointer: Sendable, Hashable, CustomStringConvertible, Comparable {
    /// The unescaped reference tokens.
    public var tokens: [String]

    /// The whole document (the empty string).
    public static let root = JSONPointer(tokens: [])

    public init(tokens: [String]) {
        self.tokens = tokens
    }

    /// Parses the string form, unescaping `~1` to `/` and `~0` to `~`.
    /// - Throws: ``JSONPointerError`` when the text is not empty and does not start with `/`,
    ///   or when `~` is not followed by `0` or `1`.
    public init(parsing text: String) throws(JSONPointerError) {
        guard !text.isEmpty else {
            self.init(tokens: [])
            return
        }
        guard text.hasPrefix("/") else {
            throw JSONPointerError(message: "JSON pointer '\(text)' must be empty or start with '/'")
        }
        var tokens: [String] = []
        for raw in text.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            var token = ""
            var escaping = false
            for character in raw {
                if escaping {
                    switch character {
                    case "0": token.append("~")
                    case "1": token.append("/")
                    default: throw JSONPointerError(message: "invalid escape '~\(character)' in JSON pointer '\(text)'")
                    }
                    escaping = false
                } else if character == "~" {
                    escaping = true
                } else {
                    token.append(character)
                }
            }
            if escaping { throw JSONPointerError(message: "'~' at the end of a token in JSON pointer '\(text)'") }
            tokens.append(token)
        }
        self.init(tokens: tokens)
    }

    public var isRoot: Bool { tokens.isEmpty }

    public func appending(_ token: String) -> JSONPointer {
        JSONPointer(tokens: tokens + [token])
    }

    public func appending(index: Int) -> JSONPointer {
        appending(String(index))
    }

    /// The pointer to the containing node; nil for the root.
    public var parent: JSONPointer? {
        tokens.isEmpty ? nil : JSONPointer(tokens: Array(tokens.dropLast()))
    }

    /// Whether `self` is `other` or one of its ancestors.
    public func isPrefix(of other: JSONPointer) -> Bool {
        tokens.count <= other.tokens.count && zip(tokens, other.tokens).allSatisfy { $0 == $1 }
    }

    /// The escaped string form: empty for the root, else `/`-separated tokens.
    public var description: String {
        var result = ""
        for token in tokens {
            result.append("/")
            for character in token {
                switch character {
                case "~": result.append("~0")
                case "/": result.append("~1")
                default: result.append(character)
                }
            }
        }
        return result
    }

    public static func < (lhs: JSONPointer, rhs: JSONPointer) -> Bool {
        for (left, right) in zip(lhs.tokens, rhs.tokens) where left != right {
            if let l = arrayIndex(left), let r = arrayIndex(right) { return l < r }
            return left < right
        }
        return lhs.tokens.count < rhs.tokens.count
    }

    /// The array index a token names, per RFC 6901: `0` or digits without a leading zero.
    static func arrayIndex(_ token: String) -> Int? {
        guard let first = token.utf8.first, token.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        if first == UInt8(ascii: "0") && token.utf8.count > 1 { return nil }
        return Int(token)
    }
}

/// A JSON Pointer string that does not follow RFC 6901.
public struct JSONPointerError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(message: String) {
        self.message = message
    }

    public var description: String { message }
}

extension JSONValue {
    /// The node `pointer` names, or nil when there is none (a missing key, an index out of
    /// range, `-`, or a token that is not an index into an array).
    public func value(at pointer: JSONPointer) -> JSONValue? {
        var current = self
        for token in pointer.tokens {
            switch current {
            case .object(let object):
                guard let next = object[token] else { return nil }
                current = next
            case .array(let array):
                guard let index = JSONPointer.arrayIndex(token), index < array.count else { return nil }
                current = array[index]
            default:
                return nil
            }
        }
        return current
    }
}
