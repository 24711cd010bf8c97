import SluiceJSON

/// Fetches pages and turns them into readable text.
public struct FetchStep: Sendable {
    /// A value yielding a URL (`url`) or a list of URLs (`urls`).
    public var urls: PlanValue
    public var isList: Bool
    public var maxBytes: Int?
}

extension FetchStep: StepKindDeclaration {
    public static let name = "fetch"
    public static let execution = StepExecution.acts
    // One of `url` and `urls` is required (the schema says which, by if/then/else).
    public static let settings = [
        StepSetting("url", .value, .string),
        StepSetting("urls", .value, .list),
        StepSetting("max_bytes", .literal, .integer, bounds: .atLeast(1)),
    ]

    public init?(settings: StepSettings, body: [Step]) {
        let isList = settings["urls"] != nil
        guard let urls = settings.value(isList ? "urls" : "url") else { return nil }
        self.init(urls: urls, isList: isList, maxBytes: settings.int("max_bytes"))
    }

    public var kind: Step.Kind { .fetch(self) }

    /// The shape the interpreter gives (Interpreter+IO).
    public func outputType(_ typing: OutputTyping) -> CELType {
        .object(
            [
                "pages": .list(.object(["url": .string, "title": .string, "text": .string], closed: true)),
                "failed": .list(.object(["url": .string, "error": .string], closed: true)),
            ], closed: true)
    }
}
