public import SluiceJSON

extension CELValue {
    /// The CEL value of a JSON value: integers become `int`, other numbers `double`, objects
    /// maps with string keys (in document order).
    public init(json: JSONValue) {
        switch json {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .integer(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .string(let s): self = .string(s)
        case .array(let a): self = .list(a.map(CELValue.init(json:)))
        case .object(let o): self = .map(CELMap(o.members.map { (CELValue.string($0.key), CELValue(json: $0.value)) }))
        }
    }

    /// The JSON form of this value, or nil when it has none (see ``toJSON()``).
    public var json: JSONValue? {
        do {
            return try toJSON()
        } catch {
            return nil
        }
    }

    /// The JSON form of this value, for storing a result: `uint` as an integer, `bytes` as
    /// base64 text, a type as its name, and map keys that are `int`, `uint` or `bool` as their
    /// text (as protobuf's JSON mapping does).
    /// - Throws: ``CELError`` for a NaN or infinite double, or a `uint` above `Int64.max`.
    public func toJSON() throws(CELError) -> JSONValue {
        switch self {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .integer(i)
        case .uint(let u):
            guard u <= UInt64(Int64.max) else { throw CELError("uint \(u) is too large for a JSON integer") }
            return .integer(Int64(u))
        case .double(let d):
            guard d.isFinite else { throw CELError("\(d) has no JSON form") }
            return .double(d)
        case .string(let s): return .string(s)
        case .bytes(let b): return .string(base64(b))
        case .type(let name): return .string(name)
        case .list(let l):
            var array: [JSONValue] = []
            array.reserveCapacity(l.count)
            for element in l { array.append(try element.toJSON()) }
            return .array(array)
        case .map(let m):
            var object = JSONObject()
            object.reserveCapacity(m.count)
            for (key, value) in m.entries {
                let name: String
                switch key {
                case .string(let s): name = s
                case .int(let i): name = String(i)
                case .uint(let u): name = String(u)
                case .bool(let b): name = b ? "true" : "false"
                default: throw CELError("map key \(key) has no JSON form")
                }
                object[name] = try value.toJSON()
            }
            return .object(object)
        }
    }
}

/// Standard base64 with padding (RFC 4648 section 4).
func base64(_ bytes: [UInt8]) -> String {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".unicodeScalars)
    var output = String.UnicodeScalarView()
    var i = 0
    while i < bytes.count {
        let chunk = bytes[i..<min(i + 3, bytes.count)]
        let b0 = UInt32(chunk[chunk.startIndex])
        let b1 = chunk.count > 1 ? UInt32(chunk[chunk.startIndex + 1]) : 0
        let b2 = chunk.count > 2 ? UInt32(chunk[chunk.startIndex + 2]) : 0
        let triple = b0 << 16 | b1 << 8 | b2
        output.append(alphabet[Int(triple >> 18 & 63)])
        output.append(alphabet[Int(triple >> 12 & 63)])
        output.append(chunk.count > 1 ? alphabet[Int(triple >> 6 & 63)] : "=")
        output.append(chunk.count > 2 ? alphabet[Int(triple & 63)] : "=")
        i += 3
    }
    return String(output)
}
