import SluiceJSON

/// Repeats its body until `until` holds or `max_iterations` is spent, keeping the best round.
public struct LoopStep: Sendable {
    public var steps: [Step]
    public var until: PlanExpression?
    public var maxIterations: NumberSetting
}

extension LoopStep: StepKindDeclaration {
    public static let name = "loop"
    public static let execution = StepExecution.runsSteps
    public static let settings = [
        StepSetting("steps", .body, .list, required: true),
        StepSetting("until", .expression, .bool, seesBody: true),
        StepSetting("max_iterations", .numberOrExpression, .integer, required: true, bounds: .atLeast(1)),
    ]

    public init?(settings: StepSettings, body: [Step]) {
        guard let maxIterations = settings.number("max_iterations") else { return nil }
        self.init(steps: body, until: settings.expression("until"), maxIterations: maxIterations)
    }

    public var kind: Step.Kind { .loop(self) }

    /// The best round (Interpreter+Flow): its number, the count, the last gate's score and
    /// each body step's output.
    public func outputType(_ typing: OutputTyping) -> CELType {
        .object(["iteration": .int, "iterations": .int, "score": .dyn, "outputs": Self.outputs(typing)], closed: true)
    }

    /// `loop.best` inside the body: the best round so far (null in the first round).
    public static func bestType(_ typing: OutputTyping) -> CELType {
        .object(["iteration": .int, "score": .dyn, "outputs": outputs(typing)], closed: true)
    }

    private static func outputs(_ typing: OutputTyping) -> CELType {
        .object(Dictionary(typing.body.map { ($0.id, $0.type) }, uniquingKeysWith: { first, _ in first }), closed: true)
    }

    public func drawing(of step: Step) -> StepDrawing {
        let rounds =
            switch maxIterations {
            case .literal(let value): value == value.rounded() ? String(Int(value)) : String(value)
            case .expression(let expression): expression.source
            }
        return .group(
            label: "\(step.id): loop, at most \(rounds) rounds", body: steps,
            backEdge: until.map { "until \($0.source)" } ?? "next round")
    }
}
