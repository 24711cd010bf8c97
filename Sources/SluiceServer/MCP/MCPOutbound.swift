/// Where a session's messages to the client go: stdout for stdio; for streamable HTTP, the SSE
/// stream of the POST being answered, or the session's GET stream for unrelated messages.
public protocol MCPOutbound: Sendable {
    func send(_ message: JSONRPCMessage) async
}

/// Drops every message (for requests whose client cannot receive anything but the response).
public struct DiscardingOutbound: MCPOutbound {
    public init() {}
    public func send(_ message: JSONRPCMessage) async {}
}
