import SluiceJSON

/// Runs another plan with its own inputs.
public struct CallStep: Sendable {
    /// The called plan's name.
    public var plan: String
    public var inputs: PlanValue?
}

extension CallStep: StepKindDeclaration {
    public static let name = "call"
    public static let execution = StepExecution.runsSteps
    public static let settings = [
        StepSetting("plan", .literal, .string, required: true),
        StepSetting("inputs", .value, .object),
    ]

    public init?(settings: StepSettings, body: [Step]) {
        guard let plan = settings.string("plan") else { return nil }
        self.init(plan: plan, inputs: settings.value("inputs"))
    }

    public var kind: Step.Kind { .call(self) }

    /// The called plan's output, as its output schema declares it.
    public func outputType(_ typing: OutputTyping) -> CELType { typing.calledPlanOutput(plan) }

    public func drawing(of step: Step) -> StepDrawing { .node(detail: plan) }
}
