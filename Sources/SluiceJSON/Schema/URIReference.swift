/// An RFC 3986 URI reference: just enough to resolve `$id`, `$ref` and `$dynamicRef`
/// against a base URI (RFC 3986 §5.2) and to compare resources by their absolute URI.
struct URIReference: Hashable, Sendable, CustomStringConvertible {
    var scheme: String?
    var authority: String?
    var path: String
    var query: String?
    var fragment: String?

    init(scheme: String? = nil, authority: String? = nil, path: String = "", query: String? = nil, fragment: String? = nil) {
        self.scheme = scheme
        self.authority = authority
        self.path = path
        self.query = query
        self.fragment = fragment
    }

    /// Splits a reference into its five components (RFC 3986 appendix B); never fails.
    init(parsing text: String) {
        var rest = Substring(text)
        if let hash = rest.firstIndex(of: "#") {
            fragment = String(rest[rest.index(after: hash)...])
            rest = rest[..<hash]
        }
        if let question = rest.firstIndex(of: "?") {
            query = String(rest[rest.index(after: question)...])
            rest = rest[..<question]
        }
        if let colon = rest.firstIndex(of: ":"), Self.isScheme(rest[..<colon]) {
            scheme = rest[..<colon].lowercased()
            rest = rest[rest.index(after: colon)...]
        }
        if rest.hasPrefix("//") {
            let afterSlashes = rest.dropFirst(2)
            let end = afterSlashes.firstIndex(of: "/") ?? afterSlashes.endIndex
            authority = String(afterSlashes[..<end])
            rest = afterSlashes[end...]
        }
        path = String(rest)
    }

    private static func isScheme(_ text: Substring) -> Bool {
        guard let first = text.first, first.isASCII, first.isLetter else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == ".") }
    }

    var isAbsolute: Bool { scheme != nil }

    /// The same URI without its fragment: the identity of a schema resource.
    var withoutFragment: URIReference {
        var copy = self
        copy.fragment = nil
        return copy
    }

    func withFragment(_ fragment: String) -> URIReference {
        var copy = self
        copy.fragment = fragment
        return copy
    }

    var description: String {
        var text = ""
        if let scheme { text += scheme + ":" }
        if let authority { text += "//" + authority }
        text += path
        if let query { text += "?" + query }
        if let fragment { text += "#" + fragment }
        return text
    }

    /// The target URI of `reference` with `self` as the base (RFC 3986 §5.2.2).
    func resolving(_ reference: URIReference) -> URIReference {
        var target = URIReference()
        if reference.scheme != nil {
            target = reference
            target.path = Self.removingDotSegments(reference.path)
        } else {
            if reference.authority != nil {
                target.authority = reference.authority
                target.path = Self.removingDotSegments(reference.path)
                target.query = reference.query
            } else {
                if reference.path.isEmpty {
                    target.path = path
                    target.query = reference.query ?? query
                } else {
                    if reference.path.hasPrefix("/") {
                        target.path = Self.removingDotSegments(reference.path)
                    } else {
                        target.path = Self.removingDotSegments(merged(with: reference.path))
                    }
                    target.query = reference.query
                }
                target.authority = authority
            }
            target.scheme = scheme
        }
        target.fragment = reference.fragment
        return target
    }

    func resolving(_ text: String) -> URIReference {
        resolving(URIReference(parsing: text))
    }

    private func merged(with relativePath: String) -> String {
        if authority != nil, path.isEmpty { return "/" + relativePath }
        guard let slash = path.lastIndex(of: "/") else { return relativePath }
        return path[...slash] + relativePath
    }

    /// RFC 3986 §5.2.4, on whole segments.
    static func removingDotSegments(_ path: String) -> String {
        guard path.contains(".") else { return path }
        let absolute = path.hasPrefix("/")
        var output: [Substring] = []
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst(absolute ? 1 : 0)
        var trailingSlash = false
        for segment in segments {
            trailingSlash = false
            switch segment {
            case ".":
                trailingSlash = true
            case "..":
                if !output.isEmpty { output.removeLast() }
                trailingSlash = true
            default:
                output.append(segment)
            }
        }
        var result = (absolute ? "/" : "") + output.joined(separator: "/")
        if trailingSlash, !result.hasSuffix("/") { result += "/" }
        return result
    }

    /// Decodes `%XX` escapes (as UTF-8); malformed escapes are kept as written.
    static func percentDecoded(_ text: String) -> String {
        guard text.contains("%") else { return text }
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%"), utf8.count >= 2,
                let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
