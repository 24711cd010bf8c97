/// One server-sent event.
public struct ServerSentEvent: Sendable, Hashable {
    /// The `event:` field; `message` when the event named none.
    public var type: String
    /// The `data:` lines joined with newlines.
    public var data: String
    /// The last `id:` seen on the stream so far (it carries over to later events).
    public var lastEventID: String

    public init(type: String = "message", data: String, lastEventID: String = "") {
        self.type = type
        self.data = data
        self.lastEventID = lastEventID
    }
}

/// Splits an `text/event-stream` body into events by the WHATWG HTML rules (§ 9.2.6):
/// lines end in CRLF, LF or CR (also when a CRLF is split across chunks); a leading BOM is
/// dropped; lines starting with `:` are comments; `data:` lines accumulate with newlines; a
/// blank line dispatches; an event with no data is not dispatched; a trailing event without a
/// closing blank line is discarded when the stream ends.
///
/// ```swift
/// var reader = ServerSentEventReader()
/// for try await chunk in response.body {
///     for event in reader.feed(chunk) { handle(event) }
/// }
/// ```
public struct ServerSentEventReader: Sendable {
    private var line: [UInt8] = []
    private var afterCR = false
    /// The bytes read so far while they may still be a byte order mark; nil once decided.
    private var pendingBOM: [UInt8]? = []
    private var data: [UInt8] = []
    private var hasData = false
    private var eventType = ""
    /// The last event id set by an `id:` field.
    public private(set) var lastEventID = ""
    /// The reconnection time in milliseconds set by the last valid `retry:` field.
    public private(set) var retry: Int?

    private static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    public init() {}

    /// Reads the next piece of the stream and returns the events it completed.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        for byte in bytes {
            if var pending = pendingBOM {
                pending.append(byte)
                if Self.byteOrderMark.starts(with: pending) {
                    pendingBOM = pending.count == Self.byteOrderMark.count ? nil : pending
                    continue
                }
                pendingBOM = nil
                for early in pending { consume(early, into: &events) }
                continue
            }
            consume(byte, into: &events)
        }
        return events
    }

    private mutating func consume(_ byte: UInt8, into events: inout [ServerSentEvent]) {
        switch byte {
        case 0x0A where afterCR:
            afterCR = false
        case 0x0A, 0x0D:
            afterCR = byte == 0x0D
            if let event = processLine() { events.append(event) }
        default:
            afterCR = false
            line.append(byte)
        }
    }

    private mutating func processLine() -> ServerSentEvent? {
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty { return dispatch() }
        if line.first == UInt8(ascii: ":") { return nil }
        let field: ArraySlice<UInt8>
        var value: ArraySlice<UInt8>
        if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            field = line[..<colon]
            value = line[(colon + 1)...]
            if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
        } else {
            field = line[...]
            value = []
        }
        switch String(decoding: field, as: UTF8.self) {
        case "event":
            eventType = String(decoding: value, as: UTF8.self)
        case "data":
            data += value
            data.append(0x0A)
            hasData = true
        case "id":
            if !value.contains(0) { lastEventID = String(decoding: value, as: UTF8.self) }
        case "retry":
            if !value.isEmpty, value.allSatisfy({ (0x30...0x39).contains($0) }), let milliseconds = Int(String(decoding: value, as: UTF8.self)) {
                retry = milliseconds
            }
        default:
            break
        }
        return nil
    }

    private mutating func dispatch() -> ServerSentEvent? {
        defer {
            data.removeAll(keepingCapacity: true)
            hasData = false
            eventType = ""
        }
        guard hasData else { return nil }
        if data.last == 0x0A { data.removeLast() }
        return ServerSentEvent(type: eventType.isEmpty ? "message" : eventType, data: String(decoding: data, as: UTF8.self), lastEventID: lastEventID)
    }
}
