import SluiceJSON

/// Web or corpus search for one query or a list of queries.
public struct SearchStep: Sendable {
    /// A value yielding a string (`query`) or a list of strings (`queries`).
    public var queries: PlanValue
    public var isList: Bool
    public var provider: String?
    public var maxResults: NumberSetting?
    public var days: NumberSetting?
}

extension SearchStep: StepKindDeclaration {
    public static let name = "search"
    public static let execution = StepExecution.acts
    // One of `query` and `queries` is required (the schema says which, by if/then/else).
    public static let settings = [
        StepSetting("query", .value, .string),
        StepSetting("queries", .value, .list),
        StepSetting("provider", .literal, .string),
        StepSetting("max_results", .numberOrExpression, .integer, bounds: .atLeast(1)),
        StepSetting("days", .numberOrExpression, .integer, bounds: .atLeast(1)),
    ]

    public init?(settings: StepSettings, body: [Step]) {
        let isList = settings["queries"] != nil
        guard let queries = settings.value(isList ? "queries" : "query") else { return nil }
        self.init(
            queries: queries, isList: isList, provider: settings.string("provider"),
            maxResults: settings.number("max_results"), days: settings.number("days"))
    }

    public var kind: Step.Kind { .search(self) }

    /// The shape the interpreter gives (Interpreter+IO): a read of a field it never has is a
    /// validate error, not a run failure after the search was paid for.
    public func outputType(_ typing: OutputTyping) -> CELType {
        .object(
            [
                "results": .list(.object(
                    ["title": .string, "url": .string, "snippet": .string, "published": .dyn, "provider": .string], closed: true))
            ], closed: true)
    }
}
