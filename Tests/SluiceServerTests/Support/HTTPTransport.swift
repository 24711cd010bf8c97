import Foundation
import SluiceJSON
import Synchronization

/// MCP over streamable HTTP with raw sockets: each message is a POST; JSON answers and every
/// event of a POST's SSE stream land in ``incoming``.
final class HTTPTransport: MCPTestTransport {
    let incoming = Mailbox<JSONValue>()
    let port: Int
    let extraHeaders: [String: String]
    private let state = Mutex<(sessionID: String?, version: String?, statuses: [Int], lastEventIDs: [String], streams: [RawHTTPConnection])>((nil, nil, [], [], []))
    private let pumps = Mutex<[Task<Void, Never>]>([])

    /// Set for a 2026-07-28 client: no session, and each POST's `MCP-Protocol-Version`,
    /// `Mcp-Method` and `Mcp-Name` headers mirror its body.
    let modern: Bool

    init(port: Int, headers: [String: String] = [:], modern: Bool = false) {
        self.port = port
        self.extraHeaders = headers
        self.modern = modern
    }

    /// The headers a 2026-07-28 client sends with `message`.
    static func modernHeaders(for message: JSONValue) -> [String: String] {
        var headers: [String: String] = [:]
        if let version = message["params"]?["_meta"]?["io.modelcontextprotocol/protocolVersion"]?.stringValue { headers["MCP-Protocol-Version"] = version }
        if let method = message["method"]?.stringValue { headers["Mcp-Method"] = method }
        // Tool calls name the tool; the tasks extension's methods name the task.
        if let name = message["params"]?["name"]?.stringValue ?? message["params"]?["taskId"]?.stringValue { headers["Mcp-Name"] = name }
        return headers
    }

    var sessionID: String? { state.withLock { $0.sessionID } }
    /// HTTP statuses of the POSTs, in order.
    var statuses: [Int] { state.withLock { $0.statuses } }
    /// Every SSE event id seen, in order.
    var lastEventIDs: [String] { state.withLock { $0.lastEventIDs } }

    func headers(accept: String = "application/json, text/event-stream") -> [String: String] {
        var headers = extraHeaders
        headers["Accept"] = accept
        headers["Content-Type"] = "application/json"
        let (session, version) = state.withLock { ($0.sessionID, $0.version) }
        if let session { headers["MCP-Session-Id"] = session }
        if let version { headers["MCP-Protocol-Version"] = version }
        return headers
    }

    func send(_ message: JSONValue) async throws {
        let headers = modern ? headers().merging(Self.modernHeaders(for: message)) { $1 } : headers()
        let connection = try RawHTTPConnection(port: port, method: "POST", path: "/mcp", headers: headers, body: message.jsonBytes)
        let head = try await connection.head()
        state.withLock { state in
            state.statuses.append(head.status)
            if let session = head.headers["mcp-session-id"] { state.sessionID = session }
        }
        if head.headers["content-type"]?.hasPrefix("text/event-stream") == true {
            state.withLock { $0.streams.append(connection) }
            let reader = SSEReader(connection)
            let task = Task { await self.pump(reader) }
            pumps.withLock { $0.append(task) }
        } else {
            let body = await connection.body()
            if !body.isEmpty, let value = try? JSONParser.parse(body) {
                if let version = value["result"]?["protocolVersion"]?.stringValue { state.withLock { $0.version = version } }
                incoming.put(value)
            }
        }
    }

    /// Forwards a POST's (or a resumed GET's) SSE events into ``incoming``.
    func pump(_ reader: SSEReader) async {
        while let event = await reader.next() {
            if let id = event.id { state.withLock { $0.lastEventIDs.append(id) } }
            guard !event.data.isEmpty, let value = try? JSONParser.parse(event.data) else { continue }
            incoming.put(value)
        }
    }

    /// Drops every open POST stream (the client's network going away).
    func dropStreams() {
        let streams = state.withLock { state in
            defer { state.streams.removeAll() }
            return state.streams
        }
        for stream in streams { stream.disconnect() }
    }

    /// Opens GET /mcp (optionally resuming after `lastEventID`) and pumps its events into ``incoming``.
    func openGET(lastEventID: String? = nil) async throws -> RawHTTPConnection.Head {
        var headers = headers(accept: "text/event-stream")
        if let lastEventID { headers["Last-Event-ID"] = lastEventID }
        let connection = try RawHTTPConnection(port: port, method: "GET", path: "/mcp", headers: headers)
        let head = try await connection.head()
        if head.status == 200 {
            state.withLock { $0.streams.append(connection) }
            let reader = SSEReader(connection)
            let task = Task { await self.pump(reader) }
            pumps.withLock { $0.append(task) }
        }
        return head
    }

    func close() async {
        dropStreams()
        for task in pumps.withLock({ $0 }) { await task.value }
        incoming.close()
    }
}
