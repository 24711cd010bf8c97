import Foundation
import SluiceJSON
import SluiceStore
import Synchronization

/// One MCP session: lifecycle, negotiated version and capabilities, log level, the tool calls
/// and tasks in flight, and the requests this server sent to the client.
///
/// Transports hand every incoming message to ``handle(_:outbound:)``, one task per request, so a
/// long `tools/call` never blocks a `notifications/cancelled` or an elicitation answer.
public final class MCPSession: Sendable {
    public let server: MCPServer
    public let user: String
    /// Messages tied to no open request (elicitations of task-augmented calls) go here.
    let unrelated: any MCPOutbound
    /// The `MCP-Session-Id` (an id of its own on stdio): the 2025-11-25 tasks it makes are
    /// bound to it in the store, so any replica taking the session up sees them.
    let sessionID: String

    struct State {
        var initialized = false
        var protocolVersion = MCPServer.latestVersion
        var clientCapabilities = JSONObject()
        var clientInfo: JSONValue = .null
        var logLevel: MCPLogLevel
        /// Requests sent to the client, waiting for their responses, by id.
        var pending: [String: ResponsePromise] = [:]
        var nextRequestNumber = 1
        /// Tool calls in progress by request id (its serialized JSON), for `notifications/cancelled`.
        var activeCalls: [String: RunRecord] = [:]
        /// Calls the client cancelled: their responses are not sent.
        var cancelledCalls: Set<String> = []
        /// Cancellations that came before their call registered its run (the request's task
        /// had not got there yet), newest last; bounded, as ids the client invents stay here.
        var earlyCancels: [String] = []
        var tasks: [String: MCPTask] = [:]
        var taskOrder: [String] = []
        /// The ids of stored questions this session asked (see ``askStored(_:runID:outbound:)``).
        var asked: Set<String> = []
        var closed = false
    }

    let state: Mutex<State>

    init(server: MCPServer, user: String, unrelated: any MCPOutbound, sessionID: String) {
        self.server = server
        self.user = user
        self.unrelated = unrelated
        self.sessionID = sessionID
        self.state = Mutex(State(logLevel: server.configuration.defaultLogLevel))
    }

    public var protocolVersion: String { state.withLock { $0.protocolVersion } }
    public var isInitialized: Bool { state.withLock { $0.initialized } }
    var logLevel: MCPLogLevel { state.withLock { $0.logLevel } }
    var clientCapabilities: JSONObject { state.withLock { $0.clientCapabilities } }

    /// Handles one incoming message; returns the response to send for a request (nil for
    /// notifications, responses, and calls the client cancelled).
    ///
    /// - Parameter outbound: where notifications and requests related to this message go.
    public func handle(_ message: JSONRPCMessage, outbound: any MCPOutbound) async -> JSONRPCMessage? {
        switch message {
        case .request(let id, let method, let params):
            // A request naming a version in `_meta` is served on its own (2026-07-28), whatever
            // this session negotiated: one endpoint, one stdio process, both eras.
            if Self.isModern(method: method, params: params) {
                return await respondModern(id: id, method: method, params: params, outbound: outbound)
            }
            do {
                guard let result = try await respond(id: id, method: method, params: params?.objectValue ?? JSONObject(), outbound: outbound) else {
                    return nil
                }
                return .result(id: id, result: result)
            } catch let error as JSONRPCError {
                return .error(id: id, error: error)
            } catch {
                return .error(id: id, error: JSONRPCError(code: JSONRPCError.internalError, message: "Internal error: \(error)"))
            }
        case .notification(let method, let params):
            notify(method: method, params: params?.objectValue ?? JSONObject())
            return nil
        case .result(let id, let result):
            await resolve(id: id, with: .success(result))
            return nil
        case .error(let id, let error):
            await resolve(id: id, with: .failure(error))
            return nil
        }
    }

    /// Ends the session: cancels its calls and tasks, fails the requests waiting on the client.
    public func close(reason: String) {
        _ = closeCancelling(reason: reason)
    }

    /// Ends the session as ``close(reason:)`` does and, on a server with a store, cancels the
    /// same runs in the store before it returns (see ``cancelInStore(_:)``): the client's end
    /// of the session (`DELETE /mcp`) reaches a call's run that parked at its question as
    /// the session ended, as `tasks/cancel` does. A task already waiting at its question
    /// stays, as on a server without a store. (Stdin closing is not this: a stdio server on a
    /// shared store hands its runs back as it exits.)
    public func end(reason: String) async {
        await cancelInStore(closeCancelling(reason: reason))
    }

    /// Closes the session; returns the runs to cancel in the store too: every call's (its
    /// caller is gone, so a call parked meanwhile would wait for an answer nobody can send)
    /// and each task's that was still running here.
    private func closeCancelling(reason: String) -> [String] {
        let (calls, tasks, pending) = state.withLock { state in
            state.closed = true
            let pending = Array(state.pending.values)
            state.pending.removeAll()
            return (Array(state.activeCalls.values), state.tasks.values.map(\.record), pending)
        }
        var runs: [String] = []
        for record in calls {
            record.cancel(reason: reason)
            runs.append(record.id)
        }
        for record in tasks where record.cancel(reason: reason) { runs.append(record.id) }
        for promise in pending { promise.fulfill(.failure(CancellationError())) }
        server.subscriptions.closeSession(sessionID)
        return runs
    }

    /// Asks the store to cancel `runs`, as `tasks/cancel` and `DELETE /v1/runs/{id}` do: a
    /// cancel made here only stops a run executing here, and can land after the run parked
    /// at its question (its executor looked for cancels then) or while another replica
    /// executes it. The store's request ends a parked run at once and reaches a run executing
    /// anywhere (``DurableRunExecutor/park(_:at:cancelled:)`` reads it as it parks). Not
    /// while the server hands its runs back (they go on elsewhere); an ended run is left as it is.
    func cancelInStore(_ runs: [String]) async {
        guard !runs.isEmpty, let durable = durableExecutor, durable.handBack?.isHandingBack != true else { return }
        for id in runs { _ = try? await durable.store.requestCancel(id: id) }
    }

    // MARK: Requests

    private func respond(id: JSONValue, method: String, params: JSONObject, outbound: any MCPOutbound) async throws -> JSONValue? {
        switch method {
        case "initialize": return initialize(params)
        case "ping": return .object(JSONObject())
        case "tools/list": return toolsList()
        case "tools/call": return try await callTool(id: id, params: params, outbound: outbound)
        case "logging/setLevel":
            guard let name = params["level"]?.stringValue, let level = MCPLogLevel(rawValue: name) else {
                throw JSONRPCError.invalidParams("Invalid params: 'level' must be one of \(MCPLogLevel.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            state.withLock { $0.logLevel = level }
            return .object(JSONObject())
        // With a durable store, tasks live there (any replica, or after a restart, answers).
        case "tasks/get": return durableExecutor != nil ? try await storedTasksGet(params) : try taskStatus(params).jsonValue
        case "tasks/result": return durableExecutor != nil ? try await storedTasksResult(params, outbound: outbound) : try await taskResult(params)
        case "tasks/list": return durableExecutor != nil ? try await storedTasksList(params) : try tasksList(params)
        case "tasks/cancel": return durableExecutor != nil ? try await storedTasksCancel(params) : try cancelTask(params)
        default: throw JSONRPCError.methodNotFound(method)
        }
    }

    private func initialize(_ params: JSONObject) -> JSONValue {
        let requested = params["protocolVersion"]?.stringValue ?? MCPServer.latestVersion
        let version = MCPServer.supportedVersions.contains(requested) ? requested : MCPServer.latestVersion
        state.withLock { state in
            state.protocolVersion = version
            // Unknown and `experimental` capabilities are kept, never refused.
            state.clientCapabilities = params["capabilities"]?.objectValue ?? JSONObject()
            state.clientInfo = params["clientInfo"] ?? .null
        }
        var capabilities: JSONObject = [
            "logging": .object(JSONObject()),
            "tools": ["listChanged": false],
        ]
        if version >= "2025-11-25" {
            capabilities["tasks"] = [
                "list": .object(JSONObject()),
                "cancel": .object(JSONObject()),
                "requests": ["tools": ["call": .object(JSONObject())]],
            ]
        }
        let configuration = server.configuration
        return [
            "protocolVersion": .string(version),
            "capabilities": .object(capabilities),
            "serverInfo": ["name": .string(configuration.name), "title": "Sluice", "version": .string(configuration.version)],
            "instructions": "Each tool runs one Sluice plan (a report pipeline) and streams its progress as notifications/message.",
        ]
    }

    // MARK: Notifications

    private func notify(method: String, params: JSONObject) {
        switch method {
        case "notifications/initialized":
            state.withLock { $0.initialized = true }
        case "notifications/cancelled":
            guard let requestID = params["requestId"] else { return }
            if server.subscriptions.cancel(session: sessionID, request: requestID) { return }
            let key = requestID.serialized(pretty: false)
            let reason = params["reason"]?.stringValue ?? "cancelled by the client"
            let record = state.withLock { state -> RunRecord? in
                guard let record = state.activeCalls[key] else {
                    state.earlyCancels.append(key)
                    if state.earlyCancels.count > Self.maxEarlyCancels { state.earlyCancels.removeFirst() }
                    return nil
                }
                state.cancelledCalls.insert(key)
                return record
            }
            guard let record else { return }
            record.cancel(reason: reason)
            // Its response is not sent now (a 2026-07-28 call parked meanwhile would wait for an
            // answer to a question never asked): the store's cancel reaches it. Not awaited, so
            // the messages after this one are read meanwhile.
            if durableExecutor != nil { Task { await cancelInStore([record.id]) } }
        default:
            // Unknown notifications are ignored, as JSON-RPC asks.
            break
        }
    }

    // MARK: Requests to the client

    /// Sends a request to the client and waits for its result.
    ///
    /// Cancelling the waiting task sends `notifications/cancelled` for it and throws `CancellationError`.
    func request(method: String, params: JSONValue, outbound: any MCPOutbound) async throws -> JSONValue {
        let promise = ResponsePromise()
        let id = try state.withLock { state throws(CancellationError) -> String in
            guard !state.closed else { throw CancellationError() }
            defer { state.nextRequestNumber += 1 }
            let id = "sluice-\(state.nextRequestNumber)"
            state.pending[id] = promise
            return id
        }
        defer { _ = state.withLock { $0.pending.removeValue(forKey: id) } }
        await outbound.send(.request(id: .string(id), method: method, params: params))
        do {
            return try await promise.value()
        } catch is CancellationError {
            // Tell the client we no longer need the answer.
            await outbound.send(.notification(method: "notifications/cancelled", params: ["requestId": .string(id), "reason": "the run was cancelled"]))
            throw CancellationError()
        }
    }

    private func resolve(id: JSONValue, with outcome: Result<JSONValue, JSONRPCError>) async {
        guard let key = id.stringValue else { return }
        if let promise = state.withLock({ $0.pending.removeValue(forKey: key) }) {
            promise.fulfill(outcome.mapError { $0 })
        } else if let (runID, seq) = Self.storedQuestion(ofID: key) {
            // A question a task's run asked from the store, perhaps from another process.
            await answerStoredQuestion(runID: runID, seq: seq, outcome: outcome)
        }
    }
}

extension MCPSession {
    /// Whether a call or a task of this session is still running (the session must not expire).
    public var hasRunningWork: Bool {
        state.withLock { state in
            !state.activeCalls.isEmpty || state.tasks.values.contains { !$0.isTerminal }
        }
    }
}

extension MCPSession {
    /// Registers a call in progress under its request id (for `notifications/cancelled`);
    /// returns the key for ``untrackCall(_:)``.
    func trackCall(id: JSONValue, record: RunRecord) -> String {
        let key = id.serialized(pretty: false)
        let cancelledEarly = state.withLock { state -> Bool in
            state.activeCalls[key] = record
            guard let index = state.earlyCancels.firstIndex(of: key) else { return false }
            state.earlyCancels.remove(at: index)
            state.cancelledCalls.insert(key)
            return true
        }
        if cancelledEarly { record.cancel(reason: "cancelled by the client") }
        return key
    }

    static let maxEarlyCancels = 64

    func untrackCall(_ key: String) {
        state.withLock { state in
            state.activeCalls.removeValue(forKey: key)
            state.cancelledCalls.remove(key)
        }
    }
}
