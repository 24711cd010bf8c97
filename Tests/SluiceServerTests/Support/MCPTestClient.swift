import Foundation
import SluiceTesting
import SluiceJSON
import Synchronization
@testable import SluiceServer

/// A way to reach an MCP server under test: stdio of a child process, or streamable HTTP.
protocol MCPTestTransport: Sendable {
    /// Sends one JSON-RPC message; whatever the server sends back arrives in ``incoming``.
    func send(_ message: JSONValue) async throws
    var incoming: Mailbox<JSONValue> { get }
    func close() async
}

/// An MCP client written for the tests: it sends requests, collects notifications, answers the
/// server's requests (elicitation, sampling) with ``answer``, and stashes out-of-order responses.
actor MCPTestClient {
    let transport: any MCPTestTransport
    private var stash: [JSONValue] = []
    private var nextID = 1
    private(set) var notifications: [JSONValue] = []
    private(set) var serverRequests: [JSONValue] = []
    /// The result for a server request (method, params); nil leaves it unanswered.
    private var answer: @Sendable (String, JSONValue) async -> JSONValue?

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    init(_ transport: any MCPTestTransport, answer: @escaping @Sendable (String, JSONValue) async -> JSONValue? = { _, _ in nil }) {
        self.transport = transport
        self.answer = answer
    }

    func setAnswer(_ answer: @escaping @Sendable (String, JSONValue) async -> JSONValue?) {
        self.answer = answer
    }

    /// `initialize` + `notifications/initialized`; returns the initialize result.
    @discardableResult
    func initialize(version: String = "2025-11-25", capabilities: JSONValue = .object(JSONObject())) async throws -> JSONValue {
        let response = try await request("initialize", [
            "protocolVersion": .string(version), "capabilities": capabilities,
            "clientInfo": ["name": "sluice-tests", "version": "1.0"],
        ])
        guard let result = response["result"] else { throw Failure(description: "initialize failed: \(response.serialized(pretty: false))") }
        try await notify("notifications/initialized")
        return result
    }

    /// `params` with the `_meta` of a 2026-07-28 request (version, capabilities, optional log level).
    static func modernParams(
        _ params: JSONObject = JSONObject(), version: String = "2026-07-28", capabilities: JSONValue = .object(JSONObject()), logLevel: String? = nil
    ) -> JSONValue {
        var params = params
        var meta = params["_meta"]?.objectValue ?? JSONObject()
        meta["io.modelcontextprotocol/protocolVersion"] = .string(version)
        meta["io.modelcontextprotocol/clientCapabilities"] = capabilities
        meta["io.modelcontextprotocol/clientInfo"] = ["name": "sluice-tests", "version": "1.0"]
        if let logLevel { meta["io.modelcontextprotocol/logLevel"] = .string(logLevel) }
        params["_meta"] = .object(meta)
        return .object(params)
    }

    /// A 2026-07-28 request: no handshake, its `_meta` says everything.
    func modern(
        _ method: String, _ params: JSONObject = JSONObject(), capabilities: JSONValue = .object(JSONObject()), logLevel: String? = nil
    ) async throws -> JSONValue {
        try await request(method, Self.modernParams(params, capabilities: capabilities, logLevel: logLevel))
    }

    /// Sends a request and waits for its response message (result or error).
    func request(_ method: String, _ params: JSONValue? = nil) async throws -> JSONValue {
        let id = try await start(method, params)
        return try await response(to: id)
    }

    /// Sends a request without waiting; returns its id.
    func start(_ method: String, _ params: JSONValue? = nil) async throws -> Int {
        let id = nextID
        nextID += 1
        var message: JSONObject = ["jsonrpc": "2.0", "id": .integer(Int64(id)), "method": .string(method)]
        if let params { message["params"] = params }
        try await transport.send(.object(message))
        return id
    }

    func notify(_ method: String, _ params: JSONValue? = nil) async throws {
        var message: JSONObject = ["jsonrpc": "2.0", "method": .string(method)]
        if let params { message["params"] = params }
        try await transport.send(.object(message))
    }

    /// Waits for the response to request `id`, handling everything that arrives meanwhile.
    func response(to id: Int) async throws -> JSONValue {
        if let index = stash.firstIndex(where: { $0["id"]?.integerValue == Int64(id) }) {
            return stash.remove(at: index)
        }
        while let message = await transport.incoming.take() {
            if try await absorb(message, waitingFor: id) { return message }
        }
        throw Failure(description: "the connection ended before the response to \(id)")
    }

    /// Waits until a message matching `predicate` arrives (a notification or a server request).
    func waitFor(_ predicate: @Sendable (JSONValue) -> Bool) async throws -> JSONValue {
        if let found = (notifications + serverRequests).first(where: predicate) { return found }
        while let message = await transport.incoming.take() {
            _ = try await absorb(message, waitingFor: nil)
            if predicate(message) { return message }
        }
        throw Failure(description: "the connection ended while waiting")
    }

    /// Files one incoming message; true when it is the response to `id`.
    private func absorb(_ message: JSONValue, waitingFor id: Int?) async throws -> Bool {
        let isResponse = message["result"] != nil || message["error"] != nil
        if isResponse {
            if let id, message["id"]?.integerValue == Int64(id) { return true }
            stash.append(message)
            return false
        }
        if let method = message["method"]?.stringValue, let requestID = message["id"] {
            serverRequests.append(message)
            if let result = await answer(method, message["params"] ?? .null) {
                try await transport.send(["jsonrpc": "2.0", "id": requestID, "result": result])
            }
            return false
        }
        notifications.append(message)
        return false
    }

    func clearNotifications() { notifications.removeAll() }

    func close() async { await transport.close() }
}

/// MCP over the stdio of a child `sluice serve --stdio`.
final class StdioTransport: MCPTestTransport {
    let incoming = Mailbox<JSONValue>()
    /// Lines on stdout that were not JSON-RPC messages (must stay empty).
    let strayLines = Locked<[String]>([])
    private let process: Process
    private let input: FileHandle
    private let writeLock = Mutex(())
    /// The `SLUICE_HOME` made for this server, removed when it closes.
    private let scratchHome: URL?

    init(arguments: [String] = [], environment: [String: String] = [:], plans: String = TestPaths.fixturePlans) throws {
        let process = Process()
        process.executableURL = try TestPaths.executable
        process.arguments = ["serve", "--stdio", "--offline", "--plans", plans, "--corpus", TestPaths.corpus, "--simulated-delay-ms", "0"] + arguments
        process.currentDirectoryURL = TestPaths.repository
        // A scratch store, so test runs (some with multi-MB results) stay out of the repository's .sluice.
        let (env, scratchHome) = BuiltExecutable.testEnvironment(environment)
        self.scratchHome = scratchHome
        process.environment = env
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        self.process = process
        self.input = stdin.fileHandleForWriting
        let incoming = self.incoming
        let stray = strayLines
        let descriptor = stdout.fileHandleForReading.fileDescriptor
        let thread = Thread {
            var pending: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count <= 0 { break }
                for byte in buffer[0..<count] {
                    if byte == 10 {
                        if let value = try? JSONParser.parse(pending), value["jsonrpc"] == "2.0" {
                            incoming.put(value)
                        } else {
                            stray.withLock { $0.append(String(decoding: pending.prefix(200), as: UTF8.self)) }
                        }
                        pending.removeAll(keepingCapacity: true)
                    } else {
                        pending.append(byte)
                    }
                }
            }
            incoming.close()
        }
        thread.start()
        // Drain stderr so the child never blocks on a full pipe.
        let errors = stderr.fileHandleForReading.fileDescriptor
        Thread {
            var sink = [UInt8](repeating: 0, count: 4096)
            while sink.withUnsafeMutableBytes({ read(errors, $0.baseAddress, $0.count) }) > 0 {}
        }.start()
    }

    func send(_ message: JSONValue) async throws {
        try sendRaw(message.serialized(pretty: false))
    }

    /// Writes one line as is (tests of malformed input).
    func sendRaw(_ line: String) throws {
        try writeLock.withLock { _ in try input.write(contentsOf: Data((line + "\n").utf8)) }
    }

    func close() async {
        try? input.close()
        await OffThread.waitForExit(process)
        scratchHome.map { try? FileManager.default.removeItem(at: $0) }
    }

    var exitStatus: Int32 { process.terminationStatus }
}
