import Foundation
import SluiceEngine
import SluiceJSON
import SluiceRunLog
import SluiceStore
import Synchronization

/// `tools/call` for 2026-07-28: progress and opted-in logs on the call's own stream, and a
/// `confirm` step answered through an input request (multi round-trip requests) instead of a
/// server-to-client `elicitation/create`.
///
/// A run that asks is parked in the durable store as `waiting` (its execution here ends; see
/// ``DurableRunExecutor``), so the retry that brings the answer may reach any server sharing
/// the store, this one included, or this one restarted: each continues it the same way
/// (``continueStoredRun``).
extension MCPSession {
    func modernCallTool(id: JSONValue, params: JSONObject, meta: ModernMeta, outbound: any MCPOutbound) async throws -> JSONValue? {
        guard let name = params["name"]?.stringValue else {
            throw JSONRPCError.invalidParams("Invalid params: 'name' (the tool) is required")
        }
        if let arguments = params["arguments"], arguments.objectValue == nil {
            throw JSONRPCError.invalidParams("Invalid params: 'arguments' must be an object")
        }
        let arguments = params["arguments"] ?? .object(JSONObject())
        if let state = params["requestState"] {
            guard let text = state.stringValue else { throw JSONRPCError.invalidParams("Invalid params: 'requestState' must be a string") }
            return try await continueCall(id: id, name: name, arguments: arguments, state: text, params: params, meta: meta, outbound: outbound)
        }
        let (plan, prepared) = try resolveCall(name: name, arguments: arguments.objectValue ?? JSONObject())
        let inputs: JSONValue
        switch prepared {
        case .failure(let problems): return Self.invalidArgumentsResult(problems)
        case .success(let value): inputs = value
        }
        if runsAsTask(plan, meta: meta) { return try await createTask(plan: plan, inputs: inputs, meta: meta) }
        let record = try await startModernRun(plan: plan, inputs: inputs, meta: meta)
        return try await follow(record, after: 0, id: id, name: name, arguments: arguments, params: params, meta: meta, outbound: outbound)
    }

    /// Starts a run for a 2026-07-28 call: its `confirm` steps become input requests when the
    /// client declared elicitation (form mode) and the server keeps runs in a store (a run
    /// waiting for the answer lives there), else their fallback applies.
    func startModernRun(plan: ServedPlan, inputs: JSONValue, meta: ModernMeta) async throws -> RunRecord {
        do {
            return try await server.runs.start(plan: plan, inputs: inputs, user: user, services: modernServices(meta))
        } catch {
            throw JSONRPCError.runFailed(type: "unavailable", message: error.description)
        }
    }

    /// The services of a 2026-07-28 call's run (see ``startModernRun(plan:inputs:meta:)``).
    func modernServices(_ meta: ModernMeta) -> RunServices {
        var services = RunServices(traceparent: meta.traceparent)
        if let elicitation = meta.capabilities["elicitation"]?.objectValue, elicitation.isEmpty || elicitation["form"] != nil,
            server.runs.executor.durable != nil
        {
            services.answersByRetry = true
        }
        return services
    }

    /// A retry carrying `requestState` (and, normally, `inputResponses`): continues the run
    /// waiting in the store at the question the state names, with the answer.
    private func continueCall(
        id: JSONValue, name: String, arguments: JSONValue, state text: String, params: JSONObject, meta: ModernMeta, outbound: any MCPOutbound
    ) async throws -> JSONValue? {
        let secret = server.configuration.requestStateSecret
        let state: RequestState
        do {
            state = try RequestState.verify(text, secret: secret, user: user, tool: name, arguments: arguments)
        } catch {
            throw JSONRPCError.invalidParams("Invalid params: requestState refused (\(Self.describe(error)))")
        }
        if let responses = params["inputResponses"], responses.objectValue == nil {
            throw JSONRPCError.invalidParams("Invalid params: 'inputResponses' must be an object")
        }
        return try await continueStoredRun(id: id, name: name, arguments: arguments, state: state, text: text, params: params, meta: meta, outbound: outbound)
    }

    static let stateUsed = JSONRPCError.invalidParams("Invalid params: requestState refused (already used, or its run no longer waits for it)")

    /// Whether an `ElicitResult` approves the step (accepted, and not unticked).
    static func approves(_ answer: JSONObject) -> Bool {
        answer["action"]?.stringValue == "accept" && (answer["content"]?["approve"]?.boolValue ?? true)
    }

    private static func describe(_ refusal: RequestState.Refusal) -> String {
        switch refusal {
        case .malformed: "malformed"
        case .badSignature: "not signed by this server"
        case .expired: "expired"
        case .otherUser: "issued to another user"
        case .otherCall: "issued for another tool call"
        }
    }

    /// Streams the run's events after `seq` as this request's notifications until the run ends
    /// (the tool result) or is parked at a question for its caller (an input-required result,
    /// the question read from the store). Cancelling the request (its HTTP stream closed, or
    /// `notifications/cancelled` on stdio) cancels the run.
    func follow(
        _ record: RunRecord, after seq: Int, id: JSONValue, name: String, arguments: JSONValue, params: JSONObject, meta: ModernMeta,
        outbound: any MCPOutbound
    ) async throws -> JSONValue? {
        let key = trackCall(id: id, record: record)
        defer { untrackCall(key) }
        let progressToken = params["_meta"]?["progressToken"]
        let logLevel = meta.logLevel
        let result: RunResult? = await withTaskCancellationHandler {
            var renderer = MCPEventRenderer(progressToken: progressToken)
            for await event in record.events(after: seq) {
                let rendered = renderer.renderedNotifications(for: event, minimumLevel: logLevel ?? .emergency)
                // No level in `_meta`: no `notifications/message` at all (the spec's rule).
                for (message, step) in rendered where logLevel != nil || step != nil { await outbound.send(message) }
            }
            if Task.isCancelled { return nil }
            return await record.waitForResult()
        } onCancel: {
            record.cancel(reason: "the client cancelled the request")
        }
        if state.withLock({ $0.cancelledCalls.contains(key) }) { return nil }
        guard let result else { throw CancellationError() }
        // Another server claimed the waiting run first: this retry's state is spent.
        if result.errorType == "resume_failed" { throw Self.stateUsed }
        guard result.status == .waiting else { return try Self.toolResult(result).get() }
        guard let question = try await storedQuestion(record.id) else {
            // Cancelled (or ended) between parking and this read: the caller is told so.
            if let durable = server.runs.executor.durable, let stored = try? await durable.store.run(id: record.id),
                stored.user == user, let ended = RunResult(stored: stored)
            {
                return try Self.toolResult(ended).get()
            }
            // Resumed already by another answer (tasks/update, another retry).
            throw Self.stateUsed
        }
        let requestState = RequestState(
            user: user, runID: record.id, step: question.step, seq: question.seq, nonce: UUID().uuidString.lowercased(), tool: name,
            argumentsDigest: RequestState.digest(of: arguments),
            expires: Int64(Date().timeIntervalSince1970) + Int64(server.configuration.inputWaitSeconds))
        return inputRequired(question, requestState: requestState.encoded(secret: server.configuration.requestStateSecret))
    }

    /// The input-required answer for a waiting `confirm` step: one `elicitation/create` keyed
    /// by the step's id, and the signed state the retry must bring back.
    func inputRequired(_ question: PendingInput, requestState: String) -> JSONValue {
        [
            "resultType": "input_required",
            "inputRequests": Self.inputRequests(question),
            "requestState": .string(requestState),
        ]
    }

    /// `{step: elicitation/create}` for a waiting question (input-required results and tasks).
    static func inputRequests(_ question: PendingInput) -> JSONValue {
        let elicitation = ElicitationChannel.formParams(step: question.step, message: question.message, details: question.details, mode: true)
        return .object([question.step: ["method": "elicitation/create", "params": .object(elicitation)]])
    }
}
