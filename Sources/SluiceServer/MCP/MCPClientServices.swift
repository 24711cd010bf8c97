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
/// the answer is validated, and one repair round sends the errors back.
struct SamplingModelProvider: ModelProvider {
    let session: MCPSession
    let outbound: any MCPOutbound
    let relatedTask: TaskIDBox?
    static let defaultMaxTokens = 4096
    static let repairRounds = 1

    func generate(_ request: ModelRequest, onDelta: @Sendable (String) async throws -> Void) async throws -> ModelResponse {
        var prompt = request.prompt
        var validator: JSONSchema?
        if let schema = request.schema {
            prompt += "\n\nAnswer with only one JSON value (no prose, no code fence) that matches this JSON Schema:\n" + schema.serialized(pretty: false)
            validator = try JSONSchema(schema)
        }
        var (text, model) = try await sample(prompt: prompt, request: request)
        var inputTokens = Self.estimateTokens(prompt + (request.system ?? ""))
        var outputTokens = Self.estimateTokens(text)
        if let validator {
            var round = 0
            while true {
                let problems = Self.problems(in: text, validator: validator)
                guard let problems else { break }
                guard round < Self.repairRounds else {
                    throw ProviderError(.invalidResponse, "the client's model did not return valid JSON: \(problems)", provider: "sampling")
                }
                round += 1
                let repair = prompt + "\n\nYour previous answer was:\n" + text + "\n\nIt is invalid: " + problems + "\nAnswer again with only the corrected JSON value."
                (text, model) = try await sample(prompt: repair, request: request)
                inputTokens += Self.estimateTokens(repair)
                outputTokens += Self.estimateTokens(text)
            }
            text = Self.stripFence(text)
        }
        try await onDelta(text)
        return ModelResponse(text: text, usage: ModelUsage(provider: "sampling", model: model, inputTokens: inputTokens, outputTokens: outputTokens))
    }

    private func sample(prompt: String, request: ModelRequest) async throws -> (String, String) {
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
        return (text, answer["model"]?.stringValue ?? "client")
    }

    /// Nil when `text` is JSON matching the schema, else what is wrong.
    private static func problems(in text: String, validator: JSONSchema) -> String? {
        let value: JSONValue
        do {
            value = try JSONParser.parse(stripFence(text))
        } catch {
            return "not JSON (\(error))"
        }
        let errors = validator.validate(value)
        return errors.isEmpty ? nil : errors.prefix(10).map(\.description).joined(separator: "; ")
    }

    /// The JSON inside a Markdown code fence, when the model wrapped it in one anyway.
    static func stripFence(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.hasPrefix("```"), trimmed.hasSuffix("```"), trimmed.count >= 6 else { return trimmed }
        var body = trimmed.dropFirst(3).dropLast(3)
        if let newline = body.firstIndex(of: "\n") { body = body[body.index(after: newline)...] }
        return body.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// About four characters per token: clients do not report usage.
    static func estimateTokens(_ text: String) -> Int { max(1, text.utf8.count / 4) }
}
