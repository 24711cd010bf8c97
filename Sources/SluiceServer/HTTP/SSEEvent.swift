import Foundation

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
    public var formatted: String {
        var text = ""
        if let id { text += "id: \(Self.singleLine(id))\n" }
        if let event { text += "event: \(Self.singleLine(event))\n" }
        if let retry { text += "retry: \(retry)\n" }
        // "\r\n", "\r" and "\n" all end a line in SSE.
        let normalized = data.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        for line in normalized.split(separator: "\n", omittingEmptySubsequences: false) {
            text += "data: \(line)\n"
        }
        return text + "\n"
    }

    /// A comment line (`: heartbeat`), which clients ignore; keeps idle connections alive.
    public static func comment(_ text: String) -> String {
        ": \(singleLine(text))\n\n"
    }

    private static func singleLine(_ text: String) -> String {
        String(text.map { $0 == "\n" || $0 == "\r" ? " " : $0 })
    }
}
