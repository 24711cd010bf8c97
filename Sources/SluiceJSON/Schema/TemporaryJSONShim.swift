// TEMPORARY: stands in for the parser/pointer API landing on main; deleted on rebase.
public struct JSONPointer: Sendable, Hashable, CustomStringConvertible {
    public var tokens: [String]
    public init(tokens: [String]) { self.tokens = tokens }
    public static let root = JSONPointer(tokens: [])
    public func appending(_ token: String) -> JSONPointer { JSONPointer(tokens: tokens + [token]) }
    public func appending(index: Int) -> JSONPointer { appending(String(index)) }
    public var description: String {
        tokens.map { "/" + $0.replacingOccurrences("~", "~0").replacingOccurrences("/", "~1") }.joined()
    }
}
extension String {
    fileprivate func replacingOccurrences(_ a: String, _ b: String) -> String {
        split(separator: a, omittingEmptySubsequences: false).joined(separator: b)
    }
}
extension JSONValue {
    public func value(at pointer: JSONPointer) -> JSONValue? {
        var current = self
        for token in pointer.tokens {
            switch current {
            case .object(let o): guard let v = o[token] else { return nil }; current = v
            case .array(let a):
                guard let i = Int(token), a.indices.contains(i) else { return nil }; current = a[i]
            default: return nil
            }
        }
        return current
    }
    public func serialized(pretty: Bool = false) -> String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .integer(let i): return String(i)
        case .double(let d): return String(d)
        case .string(let s): return "\"" + s + "\""
        case .array(let a): return "[" + a.map { $0.serialized() }.joined(separator: ",") + "]"
        case .object(let o): return "{" + o.members.map { "\"\($0.key)\":" + $0.value.serialized() }.joined(separator: ",") + "}"
        }
    }
}
public struct JSONParseError: Error { var message: String }
public enum JSONParser {
    public static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        var p = MiniParser(bytes: Array(text.utf8))
        let v = try p.value()
        return v
    }
}
struct MiniParser {
    let bytes: [UInt8]; var i = 0
    init(bytes: [UInt8]) { self.bytes = bytes }
    mutating func ws() { while i < bytes.count, [0x20, 0x0a, 0x0d, 0x09].contains(bytes[i]) { i += 1 } }
    mutating func value() throws(JSONParseError) -> JSONValue {
        ws()
        guard i < bytes.count else { throw JSONParseError(message: "eof") }
        switch bytes[i] {
        case UInt8(ascii: "{"):
            i += 1; var o = JSONObject(); ws()
            if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(o) }
            while true {
                ws(); let k = try string(); ws(); i += 1
                o[k] = try value(); ws()
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                i += 1; return .object(o)
            }
        case UInt8(ascii: "["):
            i += 1; var a: [JSONValue] = []; ws()
            if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
            while true {
                a.append(try value()); ws()
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                i += 1; return .array(a)
            }
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): i += 4; return true
        case UInt8(ascii: "f"): i += 5; return false
        case UInt8(ascii: "n"): i += 4; return nil
        default:
            let start = i
            var isDouble = false
            while i < bytes.count, let c = Optional(bytes[i]), (c >= 0x30 && c <= 0x39) || c == UInt8(ascii: "-") || c == UInt8(ascii: "+") || c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
                if c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { isDouble = true }
                i += 1
            }
            let s = String(decoding: bytes[start..<i], as: UTF8.self)
            if !isDouble, let n = Int64(s) { return .integer(n) }
            guard let d = Double(s) else { throw JSONParseError(message: "bad number \(s)") }
            return .double(d)
        }
    }
    mutating func string() throws(JSONParseError) -> String {
        i += 1
        var out: [UInt16] = []
        while bytes[i] != UInt8(ascii: "\"") {
            if bytes[i] == UInt8(ascii: "\\") {
                i += 1
                let c = bytes[i]; i += 1
                switch c {
                case UInt8(ascii: "n"): out.append(10)
                case UInt8(ascii: "t"): out.append(9)
                case UInt8(ascii: "r"): out.append(13)
                case UInt8(ascii: "b"): out.append(8)
                case UInt8(ascii: "f"): out.append(12)
                case UInt8(ascii: "u"):
                    let h = String(decoding: bytes[i..<i + 4], as: UTF8.self); i += 4
                    out.append(UInt16(h, radix: 16) ?? 0)
                default: out.append(UInt16(c))
                }
            } else {
                let start = i
                while bytes[i] != UInt8(ascii: "\""), bytes[i] != UInt8(ascii: "\\") { i += 1 }
                out.append(contentsOf: String(decoding: bytes[start..<i], as: UTF8.self).utf16)
            }
        }
        i += 1
        return String(decoding: out, as: UTF16.self)
    }
}
