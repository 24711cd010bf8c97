import Foundation
import SluiceJSON

/// MCP over stdio: newline-delimited JSON-RPC on stdin and stdout, one session per process.
///
/// Only protocol messages go to stdout (through one ``LineWriter``); diagnostics go to stderr.
/// Each request is handled in its own child task, so a long `tools/call` never blocks a
/// `notifications/cancelled` or the answer to an elicitation.
public struct StdioMCPTransport: Sendable {
    public let server: MCPServer
    public let input: Int32
    public let output: Int32
    public let user: String

    public init(server: MCPServer, input: Int32 = 0, output: Int32 = 1, user: String = "local") {
        self.server = server
        self.input = input
        self.output = output
        self.user = user
    }

    /// Serves until stdin ends, then cancels what is still running and returns.
    public func run() async {
        let writer = StdoutOutbound(writer: LineWriter(descriptor: output))
        let session = server.makeSession(user: user, unrelated: writer)
        await withDiscardingTaskGroup { group in
            for await line in LineReader.lines(of: input) {
                switch line {
                case .tooLong(let count):
                    await writer.send(.error(id: .null, error: JSONRPCError(code: JSONRPCError.invalidRequest, message: "Invalid Request: a message of \(count) bytes is over the limit")))
                case .line(let bytes):
                    let message: JSONRPCMessage
                    switch Result(catching: { () throws(JSONRPCError) in try JSONRPCMessage.parse(bytes) }) {
                    case .success(let parsed): message = parsed
                    case .failure(let error):
                        await writer.send(.error(id: .null, error: error))
                        continue
                    }
                    if case .request = message {
                        group.addTask {
                            if let response = await session.handle(message, outbound: writer) {
                                await writer.send(response)
                            }
                        }
                    } else {
                        _ = await session.handle(message, outbound: writer)
                    }
                }
            }
            // The client closed stdin: nobody is left to read answers.
            // Not in the store: on a shared store the process hands its runs back as it exits.
            session.close(reason: "the client closed the connection")
        }
    }
}

/// Sends every message as one line on stdout.
struct StdoutOutbound: MCPOutbound {
    let writer: LineWriter

    func send(_ message: JSONRPCMessage) async {
        await writer.write(message.serialized)
    }
}
