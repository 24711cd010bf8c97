import SluiceJSON

/// The result of one answered call.
struct ChatAttempt {
    var text: String
    var usage: ModelUsage
    /// For structured calls: the parsed value, or why it is not JSON; nil for free text or an empty reply.
    var json: Result<JSONValue, JSONParseError>?
    /// Why the service stopped, as it said it.
    var finishReason: String?
    /// Whether Sluice stopped reading because the answer looped (``RepetitionDetector``).
    var looped = false
    /// What the model said instead of answering, when it refused (OpenAI `refusal`, Anthropic
    /// `stop_reason: "refusal"`).
    var refusal: String?

    /// Stopped at the token limit, or cut off because it looped.
    var truncated: Bool { looped || isTruncation(finishReason) }
    /// The finish reason reported in `model.usage`: `repetition` for a loop Sluice cut off.
    var reportedReason: String? { looped ? "repetition" : finishReason }
}

/// What a stream produced so far.
struct StreamState {
    var text = ""
    var inputTokens: Int?
    var outputTokens: Int?
    var finishReason: String?
    var refusal: String?
    var done = false
    var delivered = false
    var looped = false
    let structured: Bool
    /// Parses a structured answer as it streams, once it is seen to start as JSON does; an
    /// answer starting otherwise (a code fence, prose) is read whole and extracted at the end.
    private var parser: JSONIncrementalParser?
    private var startSeen = false
    var parseFailure: JSONParseError?
    /// A complete value was followed by more text (prose): keep reading, for the usage, but stop parsing.
    private var valueEnded = false
    private var detector = RepetitionDetector()

    init(structured: Bool) {
        self.structured = structured
    }

    /// Whether the answer got any text or usage (then the call is paid for, whatever follows).
    var answered: Bool { !text.isEmpty || refusal != nil || inputTokens != nil || outputTokens != nil }

    /// Adds `piece`; false when reading on is waste: the structured output can no longer be
    /// JSON, or the answer loops.
    mutating func append(_ piece: String) -> Bool {
        text += piece
        if detector.isLooping(text) {
            looped = true
            return false
        }
        guard structured, parseFailure == nil, !valueEnded else { return true }
        if !startSeen {
            guard let first = text.utf8.first(where: { !Self.isSpace($0) }) else { return true }
            startSeen = true
            guard first == UInt8(ascii: "{") || first == UInt8(ascii: "[") else { return true }
            parser = JSONIncrementalParser()
            return feed(Array(text.utf8))
        }
        return feed(Array(piece.utf8))
    }

    private mutating func feed(_ bytes: [UInt8]) -> Bool {
        guard let parser else { return true }
        do {
            try parser.feed(bytes)
            return true
        } catch {
            let all = Array(text.utf8)
            if let start = all.firstIndex(where: { !Self.isSpace($0) }), AnswerText.endOfValue(all, from: start) != nil {
                valueEnded = true
                return true
            }
            parseFailure = error
            return false
        }
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    func attempt(provider: String, model: String, prompt: String) -> ChatAttempt {
        // Usage is what the service reported; a service that reports none (or a stream Sluice
        // stopped reading) gets an estimate (four characters a token) rather than a free call.
        let usage = ModelUsage(
            provider: provider, model: model,
            inputTokens: inputTokens ?? (prompt.count + 3) / 4,
            outputTokens: outputTokens ?? (text.count + 3) / 4
        )
        var attempt = ChatAttempt(text: text, usage: usage, json: nil, finishReason: finishReason, looped: looped)
        if refusal != nil || finishReason == "refusal" { attempt.refusal = refusal ?? "" }
        guard structured, !text.allSatisfy(\.isWhitespace) else { return attempt }
        if let parseFailure {
            attempt.json = .failure(parseFailure)
        } else if let parser, !valueEnded {
            do { attempt.json = .success(try parser.finish()) } catch { attempt.json = .failure(error) }
        } else {
            do { attempt.json = .success(try JSONParser.parse(String(AnswerText.jsonCandidate(in: text)))) } catch { attempt.json = .failure(error) }
        }
        return attempt
    }
}
