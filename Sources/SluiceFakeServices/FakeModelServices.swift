import Foundation
import SluiceJSON
import Synchronization

/// Answers each request with the next response of a script; the last one repeats.
public final class ScriptedResponses: Sendable {
    private let remaining: Mutex<[FakeResponse]>

    public init(_ responses: [FakeResponse]) {
        remaining = Mutex(responses)
    }

    public func next(_ request: FakeRequest) -> FakeResponse {
        remaining.withLock { list in
            guard let first = list.first else { return FakeResponse(status: 500, parts: [.bytes(Array("script exhausted".utf8))]) }
            if list.count > 1 { list.removeFirst() }
            return first
        }
    }
}

extension FakeHTTPServer {
    /// A server answering with `responses` in order (the last repeats).
    public static func scripted(_ responses: [FakeResponse]) throws -> FakeHTTPServer {
        let script = ScriptedResponses(responses)
        return try FakeHTTPServer { script.next($0) }
    }
}

/// Responses in the wire format of OpenAI's Chat Completions API.
public enum FakeOpenAI {
    /// A streamed completion: one `chat.completion.chunk` per piece, then a usage chunk with
    /// empty `choices` (as with `stream_options.include_usage`), then `data: [DONE]`.
    /// `finish` is the last chunk's `finish_reason` (`length` for an answer cut at its limit).
    public static func stream(
        _ pieces: [String], inputTokens: Int = 11, outputTokens: Int = 7, pause: Duration = .zero, cutOffAfter: Int? = nil,
        finish: String = "stop", refusal: String? = nil
    ) -> FakeResponse {
        var events: [String] = []
        events.append("data: " + chunk(delta: ["role": "assistant", "content": ""]).serialized())
        for piece in pieces { events.append("data: " + chunk(delta: ["content": .string(piece)]).serialized()) }
        if let refusal { events.append("data: " + chunk(delta: ["refusal": .string(refusal)]).serialized()) }
        events.append("data: " + chunk(delta: [:], finish: finish).serialized())
        let usage: JSONValue = [
            "id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1_700_000_000, "model": "fake",
            "choices": [],
            "usage": ["prompt_tokens": .integer(Int64(inputTokens)), "completion_tokens": .integer(Int64(outputTokens)), "total_tokens": .integer(Int64(inputTokens + outputTokens))],
        ]
        events.append("data: " + usage.serialized())
        events.append("data: [DONE]")
        return .eventStream(events, pause: pause, cutOffAfter: cutOffAfter.map { $0 + 1 })
    }

    private static func chunk(delta: JSONObject, finish: String? = nil) -> JSONValue {
        [
            "id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1_700_000_000, "model": "fake",
            "choices": [["index": 0, "delta": .object(delta), "finish_reason": finish.map(JSONValue.string) ?? .null]],
        ]
    }

    /// A whole `chat.completion` (a service that ignores `stream: true`).
    public static func completion(_ text: String, inputTokens: Int = 11, outputTokens: Int = 7, finish: String = "stop", refusal: String? = nil) -> FakeResponse {
        .json([
            "id": "chatcmpl-fake", "object": "chat.completion", "created": 1_700_000_000, "model": "fake",
            "choices": [[
                "index": 0, "finish_reason": .string(finish),
                "message": ["role": "assistant", "content": refusal == nil ? .string(text) : .null, "refusal": refusal.map(JSONValue.string) ?? .null],
            ]],
            "usage": ["prompt_tokens": .integer(Int64(inputTokens)), "completion_tokens": .integer(Int64(outputTokens)), "total_tokens": .integer(Int64(inputTokens + outputTokens))],
        ])
    }

    /// An error response as OpenAI sends them.
    public static func error(status: Int, message: String, type: String = "invalid_request_error", headers: [(String, String)] = []) -> FakeResponse {
        .json(["error": ["message": .string(message), "type": .string(type), "param": .null, "code": .null]], status: status, headers: headers)
    }
}

/// Responses in the wire format of Anthropic's Messages API.
public enum FakeAnthropic {
    /// A streamed text answer.
    /// A streamed text answer; `stopReason` is `max_tokens` for an answer cut at its limit.
    public static func textStream(
        _ pieces: [String], inputTokens: Int = 12, outputTokens: Int = 8, pause: Duration = .zero, cutOffAfter: Int? = nil,
        stopReason: String = "end_turn"
    ) -> FakeResponse {
        stream(
            pieces, block: ["type": "text", "text": ""], deltaType: "text_delta", deltaField: "text", inputTokens: inputTokens,
            outputTokens: outputTokens, pause: pause, cutOffAfter: cutOffAfter, stopReason: stopReason)
    }

    /// A streamed forced-tool answer whose input JSON arrives in `pieces`.
    public static func toolStream(_ pieces: [String], inputTokens: Int = 12, outputTokens: Int = 8, stopReason: String = "tool_use") -> FakeResponse {
        stream(
            pieces, block: ["type": "tool_use", "id": "toolu_fake", "name": "structured_output", "input": [:]],
            deltaType: "input_json_delta", deltaField: "partial_json", inputTokens: inputTokens, outputTokens: outputTokens, pause: .zero, cutOffAfter: nil,
            stopReason: stopReason
        )
    }

    /// A whole `message` (a service that ignores `stream: true`): `text` as the forced tool's
    /// input when `tool` is set and it is a JSON object, else as a text block.
    public static func message(_ text: String, tool: Bool, inputTokens: Int = 12, outputTokens: Int = 8, stopReason: String = "end_turn") -> FakeResponse {
        var block: JSONValue = ["type": "text", "text": .string(text)]
        let input: JSONValue? = { () -> JSONValue? in
            do { return try JSONParser.parse(text) } catch { return nil }
        }()
        if tool, let input, input.objectValue != nil {
            block = ["type": "tool_use", "id": "toolu_fake", "name": "structured_output", "input": input]
        }
        return .json([
            "id": "msg_fake", "type": "message", "role": "assistant", "model": "fake", "content": [block],
            "stop_reason": .string(stopReason), "stop_sequence": .null,
            "usage": ["input_tokens": .integer(Int64(inputTokens)), "output_tokens": .integer(Int64(outputTokens))],
        ])
    }

    private static func stream(
        _ pieces: [String], block: JSONValue, deltaType: String, deltaField: String, inputTokens: Int, outputTokens: Int,
        pause: Duration, cutOffAfter: Int?, stopReason: String
    ) -> FakeResponse {
        func event(_ name: String, _ payload: JSONValue) -> String { "event: \(name)\ndata: \(payload.serialized())" }
        var events = [
            event("message_start", [
                "type": "message_start",
                "message": [
                    "id": "msg_fake", "type": "message", "role": "assistant", "model": "fake", "content": [],
                    "stop_reason": .null, "usage": ["input_tokens": .integer(Int64(inputTokens)), "output_tokens": 1],
                ],
            ]),
            event("content_block_start", ["type": "content_block_start", "index": 0, "content_block": block]),
            event("ping", ["type": "ping"]),
        ]
        for piece in pieces {
            events.append(event("content_block_delta", ["type": "content_block_delta", "index": 0, "delta": ["type": .string(deltaType), deltaField: .string(piece)]]))
        }
        events.append(event("content_block_stop", ["type": "content_block_stop", "index": 0]))
        events.append(event("message_delta", ["type": "message_delta", "delta": ["stop_reason": .string(stopReason), "stop_sequence": .null], "usage": ["output_tokens": .integer(Int64(outputTokens))]]))
        events.append(event("message_stop", ["type": "message_stop"]))
        return .eventStream(events, pause: pause, cutOffAfter: cutOffAfter.map { $0 + 3 })
    }

    public static func error(status: Int, type: String, message: String, headers: [(String, String)] = []) -> FakeResponse {
        .json(["type": "error", "error": ["type": .string(type), "message": .string(message)]], status: status, headers: headers)
    }
}

extension FakeOpenAI {
    /// A stream whose every delta is made when it is sent (e.g. carrying the send time), with
    /// `pause` between deltas; then usage and `[DONE]`.
    public static func generatedStream(count: Int, pause: Duration, delta: @escaping @Sendable (Int) -> String) -> FakeResponse {
        var parts: [FakeResponse.Part] = []
        for index in 0..<count {
            if index > 0, pause > .zero { parts.append(.pause(pause)) }
            parts.append(.generated {
                let chunk: JSONValue = [
                    "id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1_700_000_000, "model": "fake",
                    "choices": [["index": 0, "delta": ["content": .string(delta(index))], "finish_reason": .null]],
                ]
                return Array(("data: " + chunk.serialized() + "\n\n").utf8)
            })
        }
        let usage: JSONValue = ["choices": [], "usage": ["prompt_tokens": 10, "completion_tokens": .integer(Int64(count)), "total_tokens": .integer(Int64(count + 10))]]
        parts.append(.bytes(Array(("data: " + usage.serialized() + "\n\ndata: [DONE]\n\n").utf8)))
        return FakeResponse(status: 200, headers: [("Content-Type", "text/event-stream")], parts: parts, chunked: true)
    }
}
