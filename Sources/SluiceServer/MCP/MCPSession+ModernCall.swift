import Foundation
import SluiceEngine
import SluiceJSON
import SluiceRunLog
import Synchronization

/// `tools/call` for 2026-07-28: progress and opted-in logs on the call's own stream, and a
/// `confirm` step answered through an input request (multi round-trip requests) instead of a
/// server-to-client `elicitation/create`.
extension MCPSession {
    /// How following a run ended for this request.
    private enum Following: Sendable {
        case finished(RunResult)
        case asked(WaitingInputs.Question)
    }

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
        let record = try startModernRun(plan: plan, inputs: inputs, meta: meta)
        return try await follow(record, after: 0, id: id, name: name, arguments: arguments, params: params, meta: meta, outbound: outbound)
    }

    /// Starts a run for a 2026-07-28 call: its `confirm` steps become input requests when the
    /// client declared elicitation (form mode), else their fallback applies.
    func startModernRun(plan: ServedPlan, inputs: JSONValue, meta: ModernMeta) throws -> RunRecord {
        var services = RunServices(traceparent: meta.traceparent)
        if let elicitation = meta.capabilities["elicitation"]?.objectValue, elicitation.isEmpty || elicitation["form"] != nil {
            services.confirmation = InputRequestChannel(waiting: server.waiting, runs: server.runs)
            services.answersByRetry = true
        }
        do {
            return try server.runs.start(plan: plan, inputs: inputs, user: user, services: services)
        } catch {
            throw JSONRPCError.runFailed(type: "unavailable", message: error.description)
        }
    }

    /// A retry carrying `requestState` (and, normally, `inputResponses`): answers the question
    /// the run waits on, then follows the run from where the question stopped it.
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
        guard let record = server.runs.run(id: state.runID, user: user), record.status == .running,
            let question = server.waiting.question(runID: state.runID)
        else {
            // Not waiting here: a restarted server (or another one on the same store) continues
            // the stored run, which stopped at the question.
            return try await continueStoredRun(id: id, name: name, arguments: arguments, state: state, text: text, params: params, meta: meta, outbound: outbound)
        }
        guard question.nonce == state.nonce else { throw Self.stateUsed }
        // The answer is missing: the spec asks for the same question again, not an error.
        guard let answer = params["inputResponses"]?[question.step]?.objectValue else {
            return inputRequired(question, requestState: text)
        }
        let approve = Self.approves(answer)
        guard server.waiting.answer(runID: record.id, nonce: question.nonce, approve: approve) else { throw Self.stateUsed }
        return try await follow(record, after: question.seq, id: id, name: name, arguments: arguments, params: params, meta: meta, outbound: outbound)
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
    /// (the tool result) or asks its caller something (an input-required result). Cancelling
    /// the request (its HTTP stream closed, or `notifications/cancelled` on stdio) cancels the run.
    func follow(
        _ record: RunRecord, after seq: Int, id: JSONValue, name: String, arguments: JSONValue, params: JSONObject, meta: ModernMeta,
        outbound: any MCPOutbound
    ) async throws -> JSONValue? {
        let key = trackCall(id: id, record: record)
        defer { untrackCall(key) }
        let progressToken = params["_meta"]?["progressToken"]
        let logLevel = meta.logLevel
        let waiting = server.waiting
        // The events child records how far it got, so a question stops it only after every
        // event before the question went out (they are already buffered: nothing blocks).
        let progress = FollowProgress(sent: seq)
        let following: Following? = await withTaskCancellationHandler {
            await withTaskGroup(of: Following?.self) { group in
                group.addTask {
                    var renderer = MCPEventRenderer(progressToken: progressToken)
                    for await event in record.events(after: seq) {
                        let rendered = renderer.renderedNotifications(for: event, minimumLevel: logLevel ?? .emergency)
                        // No level in `_meta`: no `notifications/message` at all (the spec's rule).
                        for (message, step) in rendered where logLevel != nil || step != nil { await outbound.send(message) }
                        let done = progress.state.withLock { state -> Bool in
                            state.sent = event.seq
                            return state.stopAt.map { event.seq >= $0 } ?? false
                        }
                        if done { return nil }
                    }
                    if Task.isCancelled { return nil }
                    return .finished(await record.waitForResult())
                }
                group.addTask {
                    for await question in waiting.questions(runID: record.id) { return .asked(question) }
                    return nil
                }
                var outcome: Following?
                following: while let next = await group.next() {
                    switch next {
                    case nil:
                        // The events child caught up with the question (or a child was cancelled).
                        if outcome != nil { break following }
                    case .finished?:
                        outcome = next
                        break following
                    case .asked(let question)?:
                        outcome = next
                        let caughtUp = progress.state.withLock { state -> Bool in
                            state.stopAt = question.seq
                            return state.sent >= question.seq
                        }
                        if caughtUp { break following }
                    }
                }
                group.cancelAll()
                return outcome
            }
        } onCancel: {
            record.cancel(reason: "the client cancelled the request")
        }
        if state.withLock({ $0.cancelledCalls.contains(key) }) { return nil }
        switch following {
        case .finished(let result):
            return try Self.toolResult(result).get()
        case .asked(let question):
            let requestState = RequestState(
                user: user, runID: record.id, step: question.step, seq: question.seq, nonce: question.nonce, tool: name, argumentsDigest: RequestState.digest(of: arguments),
                expires: Int64(Date().timeIntervalSince1970) + Int64(server.configuration.inputWaitSeconds))
            return inputRequired(question, requestState: requestState.encoded(secret: server.configuration.requestStateSecret))
        case nil:
            throw CancellationError()
        }
    }

    /// The input-required answer for a waiting `confirm` step: one `elicitation/create` keyed
    /// by the step's id, and the signed state the retry must bring back.
    func inputRequired(_ question: WaitingInputs.Question, requestState: String) -> JSONValue {
        let elicitation = ElicitationChannel.formParams(step: question.step, message: question.message, details: question.details, mode: true)
        return [
            "resultType": "input_required",
            "inputRequests": .object([question.step: ["method": "elicitation/create", "params": .object(elicitation)]]),
            "requestState": .string(requestState),
        ]
    }
}

/// How far a followed run's events went out, and where a question asks them to stop (shared by
/// the two children of ``MCPSession/follow``).
private final class FollowProgress: Sendable {
    let state: Mutex<(sent: Int, stopAt: Int?)>

    init(sent: Int) {
        state = Mutex((sent, nil))
    }
}
