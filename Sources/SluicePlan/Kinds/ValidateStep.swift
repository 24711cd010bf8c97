import SluiceJSON

/// Checks each element of a list against a JSON Schema, splitting valid elements from
/// rejected ones with the reasons: the schema can come from the run (an input), so it is a
/// value evaluated when the step runs.
public struct ValidateStep: Sendable {
    /// An expression yielding the list to check.
    public var items: PlanExpression
    /// A value yielding the JSON Schema each element must satisfy.
    public var schema: PlanValue
}

extension ValidateStep: StepKindDeclaration {
    public static let name = "validate"
    public static let execution = StepExecution.computes
    public static let settings = [
        StepSetting("items", .expression, .list, required: true),
        StepSetting("schema", .value, .jsonSchema(what: "item schema"), required: true),
    ]

    public init?(settings: StepSettings, body: [Step]) {
        guard let items = settings.expression("items"), let schema = settings.value("schema") else { return nil }
        self.init(items: items, schema: schema)
    }

    public var kind: Step.Kind { .validate(self) }

    /// The elements that pass, typed by the list they come from, and the rejected ones.
    public func outputType(_ typing: OutputTyping) -> CELType {
        .object(
            [
                "valid": .list(.dyn),
                "rejected": .list(.object(["item": .dyn, "errors": .list(.string)], closed: true)),
            ], closed: true)
    }

    public func drawing(of step: Step) -> StepDrawing { .node(detail: items.source) }
}
