import SluiceJSON

/// The offline model of `--offline`: deterministic, no network, no keys.
///
/// - Text calls stream `[simulated] …` prose about the prompt's topic in small chunks, with a
///   short pause between chunks so streaming is visible in a terminal.
/// - Structured calls return JSON generated from the request's schema (valid against it).
/// - Judge calls score every dimension on a curve that rises with the loop round
///   (6.2, 7.4, 8.3, then +0.4 a round on a 0–10 scale), so a loop ends by meeting its
///   threshold or by spending its iterations depending on the plan's settings.
/// - Usage is estimated at one token per four characters and reported under the provider
///   `simulated`, which costs nothing.
///
/// Cancelling the caller's task ends the call at the next chunk.
public struct SimulatedModel: ModelProvider {
    public static let providerName = "simulated"

    public struct Configuration: Sendable {
        /// The pause before each chunk; `.zero` in tests.
        public var chunkDelay: Duration
        /// Words per streamed chunk.
        public var wordsPerChunk: Int

        public init(chunkDelay: Duration = .milliseconds(15), wordsPerChunk: Int = 3) {
            self.chunkDelay = chunkDelay
            self.wordsPerChunk = max(1, wordsPerChunk)
        }
    }

    public var configuration: Configuration

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// The simulated judge's base score for a loop round, on a 0–10 scale.
    public static func judgeScore(iteration: Int) -> Double {
        switch iteration {
        case ...1: 6.2
        case 2: 7.4
        case 3: 8.3
        default: min(10, 8.3 + 0.4 * Double(iteration - 3))
        }
    }

    public func generate(
        _ request: ModelRequest,
        onDelta: @Sendable (String) async throws -> Void
    ) async throws -> ModelResponse {
        try Task.checkCancellation()
        let text = answer(to: request)
        if request.stream {
            for chunk in Self.chunks(of: text, wordsPerChunk: configuration.wordsPerChunk) {
                if configuration.chunkDelay > .zero {
                    try await Task.sleep(for: configuration.chunkDelay)
                } else {
                    await Task.yield()
                }
                try Task.checkCancellation()
                try await onDelta(chunk)
            }
        } else if configuration.chunkDelay > .zero {
            try await Task.sleep(for: configuration.chunkDelay)
        }
        try Task.checkCancellation()
        let input = (request.system ?? "") + request.prompt + (request.schema?.serialized() ?? "")
        let usage = ModelUsage(
            provider: Self.providerName,
            model: request.model.description,
            inputTokens: Self.estimatedTokens(input),
            outputTokens: Self.estimatedTokens(text)
        )
        return ModelResponse(text: text, usage: usage)
    }

    /// The whole answer, before it is cut into chunks.
    func answer(to request: ModelRequest) -> String {
        let meta = request.metadata
        let seed = SimulatedText.stableHash(request.prompt, String(meta.iteration ?? 0), String(meta.item ?? -1))
        guard let schema = request.schema else {
            let maxWords = request.maxTokens.map { max(8, $0 * 3 / 4) }
            return SimulatedText.paragraphs(for: request.prompt, seed: seed, maxWords: maxWords)
        }
        let generator = SchemaInstanceGenerator(
            topic: SimulatedText.topic(of: request.prompt),
            describedFields: SimulatedText.describedFields(in: request.prompt),
            quotes: SimulatedText.quotedSentences(in: request.prompt)
        )
        var value = generator.instance(of: schema)
        if meta.purpose == .judge {
            value = judged(value, schema: schema, iteration: meta.iteration ?? 1)
        }
        return value.serialized(pretty: false)
    }

    /// Overwrites the generated `scores` and `feedback` with the rising judge curve.
    private func judged(_ value: JSONValue, schema: JSONValue, iteration: Int) -> JSONValue {
        guard var object = value.objectValue else { return value }
        let base = Self.judgeScore(iteration: iteration)
        let offsets = [0.0, 0.3, -0.3, 0.2, -0.2, 0.1, -0.1]
        if let scores = object["scores"]?.objectValue {
            let dimensionSchemas = schema["properties"]?["scores"]?["properties"]
            var rescored = JSONObject()
            for (index, key) in scores.keys.enumerated() {
                let low = dimensionSchemas?[key]?["minimum"]?.doubleValue ?? 0
                let high = dimensionSchemas?[key]?["maximum"]?.doubleValue ?? 10
                let onTen = min(10, max(0, base + offsets[index % offsets.count]))
                let scaled = low + (high - low) * onTen / 10
                rescored[key] = .double((scaled * 10).rounded() / 10)
            }
            object["scores"] = .object(rescored)
            let weakest = rescored.members.min { ($0.value.doubleValue ?? 0) < ($1.value.doubleValue ?? 0) }?.key
            if object["feedback"] != nil {
                object["feedback"] = .string(
                    "[simulated] Round \(iteration) scores about \(base)/10. "
                        + (weakest.map { "Weakest dimension: \($0); " } ?? "")
                        + "add more recent, specific sources and go deeper on the main developments."
                )
            }
        }
        return .object(object)
    }

    static func chunks(of text: String, wordsPerChunk: Int) -> [String] {
        var chunks: [String] = []
        var current = ""
        var words = 0
        for character in text {
            current.append(character)
            if character == " " || character == "\n" {
                words += 1
                if words == wordsPerChunk {
                    chunks.append(current)
                    current = ""
                    words = 0
                }
            }
        }
        if !current.isEmpty { chunks.append(current) }
        return chunks
    }

    /// About one token per four characters, at least one for non-empty text.
    public static func estimatedTokens(_ text: String) -> Int {
        text.isEmpty ? 0 : max(1, (text.utf8.count + 3) / 4)
    }
}
