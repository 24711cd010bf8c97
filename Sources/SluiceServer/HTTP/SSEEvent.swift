/// One Server-Sent Event, formatted per the HTML standard: each line of a multi-line payload
/// gets its own `data:` line, so LLM text with newlines arrives intact.
public struct SSEEvent: Sendable, Hashable {
    public var id: String?
    public var event: String?
    public var data: String
    /// Reconnection delay for the client, in milliseconds.
    public var retry: Int?

    public init(id: String? = nil, event: String? = nil, data: String, retry: Int? = nil) {
        self.id = id
        self.event = event
        self.data = data
        self.retry = retry
    }

    /// The event's wire form, ending with the blank line that dispatches it.
    public var formatted: String { String(decoding: bytes, as: UTF8.self) }

    /// The wire form as bytes, built in one pass over the UTF-8 of the data (no Foundation
    /// string bridging: this runs for every event of every stream).
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.utf8.count + 32 + (id?.utf8.count ?? 0) + (event?.utf8.count ?? 0))
        if let id { Self.appendField("id: ", id, to: &out) }
        if let event { Self.appendField("event: ", event, to: &out) }
        if let retry { Self.appendField("retry: ", String(retry), to: &out) }
        out.append(contentsOf: "data: ".utf8)
        // "\r\n", "\r" and "\n" all end a line in SSE: each starts a new `data:` line.
        var previousWasCR = false
        for byte in data.utf8 {
            switch byte {
            case UInt8(ascii: "\r"):
                out.append(contentsOf: "\ndata: ".utf8)
                previousWasCR = true
                continue
            case UInt8(ascii: "\n"):
                if !previousWasCR { out.append(contentsOf: "\ndata: ".utf8) }
            default:
                out.append(byte)
            }
            previousWasCR = false
        }
        out.append(contentsOf: "\n\n".utf8)
        return out
    }

    /// `name` + `value` on one line (line breaks in the value become spaces) + "\n".
    private static func appendField(_ name: String, _ value: String, to out: inout [UInt8]) {
        out.append(contentsOf: name.utf8)
        for byte in value.utf8 { out.append(byte == 10 || byte == 13 ? 32 : byte) }
        out.append(10)
    }

    /// A comment line (`: heartbeat`), which clients ignore; keeps idle connections alive.
    public static func comment(_ text: String) -> String {
        ": \(singleLine(text))\n\n"
    }

    private static func singleLine(_ text: String) -> String {
        String(decoding: text.utf8.map { $0 == 10 || $0 == 13 ? 32 : $0 }, as: UTF8.self)
    }
}
