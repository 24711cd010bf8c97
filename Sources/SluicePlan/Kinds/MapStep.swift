import SluiceJSON

/// Runs its body once per element of a list, a few at a time; results keep the list's order.
public struct MapStep: Sendable {
    public var over: PlanExpression
    /// The name the body uses for the current element (`item` unless `as` says otherwise).
    public var itemName: String
    public var concurrency: NumberSetting
    public var tolerateFailures: Bool
    public var steps: [Step]
    /// Each element's result; `nil` means the last body step's output.
    public var result: PlanValue?
}

extension MapStep: StepKindDeclaration {
    public static let name = "map"
    public static let execution = StepExecution.runsSteps
    public static let settings = [
        StepSetting("over", .expression, .list, required: true),
        StepSetting("as", .literal, .string),
        StepSetting("concurrency", .numberOrExpression, .integer, bounds: .atLeast(1)),
        StepSetting("tolerate_failures", .literal, .bool),
        StepSetting("steps", .body, .list, required: true),
        StepSetting("result", .value, .any, seesBody: true),
    ]

    public init?(settings: StepSettings, body: [Step]) {
        guard let over = settings.expression("over") else { return nil }
        self.init(
            over: over, itemName: settings.string("as") ?? "item", concurrency: settings.number("concurrency") ?? .literal(4),
            tolerateFailures: settings.bool("tolerate_failures") ?? false, steps: body, result: settings.value("result"))
    }

    public var kind: Step.Kind { .map(self) }

    /// A list of each element's result: `result`, or the last body step's output. With
    /// `tolerate_failures` an element may be null, so its type is left open.
    public func outputType(_ typing: OutputTyping) -> CELType {
        guard !tolerateFailures else { return .list(.dyn) }
        return .list(result.map(typing.valueInBody) ?? typing.body.last?.type ?? .dyn)
    }

    public func drawing(of step: Step) -> StepDrawing {
        .group(label: "\(step.id): map over \(over.source)", body: steps, backEdge: nil)
    }
}
