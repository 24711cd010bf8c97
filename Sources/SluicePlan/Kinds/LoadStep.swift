import SluiceJSON

/// Loads a document (a local file or a URL) and splits it into chunks.
public struct LoadStep: Sendable {
    public var path: PlanValue
    public var chunkSize: Int
    public var chunkOverlap: Int
}

extension LoadStep: StepKindDeclaration {
    public static let name = "load"
    public static let execution = StepExecution.acts
    public static let settings = [
        StepSetting("path", .value, .string, required: true),
        StepSetting("chunk_size", .literal, .integer, bounds: .atLeast(1)),
        StepSetting("chunk_overlap", .literal, .integer, bounds: .atLeast(0)),
    ]

    public init?(settings: StepSettings, body: [Step]) {
        guard let path = settings.value("path") else { return nil }
        self.init(path: path, chunkSize: settings.int("chunk_size") ?? 8000, chunkOverlap: settings.int("chunk_overlap") ?? 200)
    }

    public var kind: Step.Kind { .load(self) }

    /// The shape the interpreter gives (Interpreter+IO).
    public func outputType(_ typing: OutputTyping) -> CELType {
        .object(
            [
                "path": .string, "text": .string,
                "chunks": .list(.object(["index": .int, "offset": .int, "text": .string], closed: true)),
            ], closed: true)
    }
}
