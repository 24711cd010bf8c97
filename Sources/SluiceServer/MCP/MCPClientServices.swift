import Foundation
import SluiceJSON
import SluiceProviders
import Synchronization

/// The id of a task, known only once its run has started (services are made before).
final class TaskIDBox: Sendable {
    private let value = Mutex<String?>(nil)
    func set(_ id: String) { value.withLock { $0 = id } }
    var id: String? { value.withLock { $0 } }
}

extension MCPSession {
    /// `_meta` tying a message to its task, when there is one.
    static func relatedTaskMeta(_ box: TaskIDBox?) -> JSONValue? {
        guard let id = box?.id else { return nil }
        return [relatedTaskKey: ["taskId": .string(id)]]
    }
}

/// Asks the client's user through `elicitation/create` (form mode, one boolean field: the
/// spec's flat schemas allow only primitive properties).
struct ElicitationChannel: ConfirmationChannel {
    let session: MCPSession
    let outbound: any MCPOutbound
    let relatedTask: TaskIDBox?
    /// The most characters of the approved details shown in the message.
    static let maxDetailCharacters = 4000

    func confirm(step: String, message: String, details: JSONValue) async throws -> Bool {
        var params = Self.formParams(step: step, message: message, details: details, mode: session.protocolVersion >= "2025-11-25")
        if let meta = MCPSession.relatedTaskMeta(relatedTask) { params["_meta"] = meta }
        if let task = relatedTask?.id { session.taskInput(task, waiting: true) }
        defer { if let task = relatedTask?.id { session.taskInput(task, waiting: false) } }
        let answer = try await session.request(method: "elicitation/create", params: .object(params), outbound: outbound)
        guard answer["action"]?.stringValue == "accept" else { return false }
        return answer["content"]?["approve"]?.boolValue ?? true
    }

    /// The `elicitation/create` params asking to approve `step` (also the input request of a
    /// 2026-07-28 call); `mode: "form"` from 2025-11-25 on.
    static func formParams(step: String, message: String, details: JSONValue, mode: Bool) -> JSONObject {
        var text = message
        if !details.isNull {
            let rendered = details.serialized(pretty: true)
            text += "\n\n" + (rendered.count > maxDetailCharacters ? String(rendered.prefix(maxDetailCharacters)) + "\n…" : rendered)
        }
        var params: JSONObject = [:]
        if mode { params["mode"] = "form" }
        params["message"] = .string(text)
        params["requestedSchema"] = [
            "type": "object",
            "properties": [
                "approve": ["type": "boolean", "title": "Approve", "description": .string("Approve step '\(step)' and continue"), "default": true],
            ],
            "required": ["approve"],
        ]
        return params
    }
}

/// Runs model calls through `sampling/createMessage` on the calling client (`SLUICE_MODEL=sampling`).
///
/// Structured output goes through prompt + validation + repair: the schema is put in the prompt,
/// the answer is validated (JSON inside a code fence or prose is extracted first), and up to
/// ``ModelRequest/maxRepairs`` rounds send the errors back. Each sample is told to
/// ``ModelRequest/onCall`` with its estimated tokens (clients report none). A sample that
/// stopped at `maxTokens` counts as invalid for structured output; free text is used, marked
/// truncated (a client's sample cannot be continued), unless `on_truncation` is `fail`.
struct SamplingModelProvider: ModelProvider {
    let session: MCPSession
    let outbound: any MCPOutbound
    let relatedTask: TaskIDBox?
    static let defaultMaxTokens = 4096

    func generate(_ request: ModelRequest, onDelta: @Sendable (String) async throws -> Void) async throws -> ModelResponse {
        var prompt = request.prompt
        var validator: JSONSchema?
        if let schema = request.schema {
            prompt += "\n\nAnswer with only one JSON value (no prose, no code fence) that matches this JSON Schema:\n" + schema.serialized(pretty: false)
            validator = try JSONSchema(schema)
        }
        var total = ModelUsage(provider: "sampling", model: request.model.name, inputTokens: 0, outputTokens: 0)
        var asked = prompt
        var attempt = 0
        while true {
            attempt += 1
            let (text, model, stop) = try await sample(prompt: asked, request: request)
            let usage = ModelUsage(
                provider: "sampling", model: model, inputTokens: Self.estimateTokens(asked + (request.system ?? "")), outputTokens: Self.estimateTokens(text))
            total.model = model
            total.inputTokens += usage.inputTokens
            total.outputTokens += usage.outputTokens
            let truncated = stop == "maxTokens"
            func tell(_ outcome: ModelCall.Outcome, problem: String? = nil) {
                request.onCall?(ModelCall(usage: usage, attempt: attempt, outcome: outcome, truncated: truncated, finishReason: stop, problem: problem))
            }
            guard let validator else {
                if truncated, request.onTruncation == .fail {
                    tell(.truncated)
                    throw ProviderError(.invalidResponse, "the client's model stopped at its token limit (on_truncation: fail)", provider: "sampling")
                }
                tell(.accepted)
                try await onDelta(text)
                var response = ModelResponse(text: text, usage: total, truncated: truncated, finishReason: stop)
                response.callsReported = attempt
                return response
            }
            let problems = truncated ? "it stopped at its token limit before the JSON was complete" : Self.problems(in: text, validator: validator)
            guard let problems else {
                tell(attempt == 1 ? .accepted : .repaired)
                let json = String(AnswerText.jsonCandidate(in: text))
                try await onDelta(json)
                var response = ModelResponse(text: json, usage: total, finishReason: stop)
                response.callsReported = attempt
                return response
            }
            tell(truncated ? .truncated : .invalid, problem: problems)
            guard attempt <= request.maxRepairs else {
                throw ProviderError(.invalidResponse, "the client's model did not return valid JSON: \(problems)", provider: "sampling")
            }
            asked = prompt + "\n\nYour previous answer was:\n" + text.prefix(4000) + "\n\nIt is invalid: " + problems + "\nAnswer again with only the corrected JSON value."
        }
    }

    /// The sample's text, the model the client used, and why it stopped (`endTurn`, `maxTokens`, …).
    private func sample(prompt: String, request: ModelRequest) async throws -> (String, String, String?) {
        var params: JSONObject = [
            "messages": [["role": "user", "content": ["type": "text", "text": .string(prompt)]]],
            "maxTokens": .integer(Int64(request.maxTokens ?? Self.defaultMaxTokens)),
            "modelPreferences": ["hints": [["name": .string(request.model.name)]]],
        ]
        if let system = request.system { params["systemPrompt"] = .string(system) }
        if let temperature = request.temperature { params["temperature"] = .double(temperature) }
        if let meta = MCPSession.relatedTaskMeta(relatedTask) { params["_meta"] = meta }
        let answer = try await session.request(method: "sampling/createMessage", params: .object(params), outbound: outbound)
        // 2025-11-25 allows an array of content blocks; earlier versions one block.
        let blocks = answer["content"]?.arrayValue ?? [answer["content"] ?? .null]
        let text = blocks.compactMap { $0["type"]?.stringValue == "text" ? $0["text"]?.stringValue : nil }.joined()
        return (text, answer["model"]?.stringValue ?? "client", answer["stopReason"]?.stringValue)
    }

    /// Nil when `text` holds JSON matching the schema, else what is wrong.
    private static func problems(in text: String, validator: JSONSchema) -> String? {
        let value: JSONValue
        do {
            value = try JSONParser.parse(String(AnswerText.jsonCandidate(in: text)))
        } catch {
            return "not JSON (\(error))"
        }
        let errors = validator.validate(value)
        return errors.isEmpty ? nil : errors.prefix(10).map(\.description).joined(separator: "; ")
    }

    /// About four characters per token: clients do not report usage.
    static func estimateTokens(_ text: String) -> Int { max(1, text.utf8.count / 4) }
}
