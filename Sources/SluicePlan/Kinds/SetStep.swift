import SluiceJSON

/// Computes a value.
public struct SetStep: Sendable {
    public var value: PlanValue
}

extension SetStep: StepKindDeclaration {
    public static let name = "set"
    public static let execution = StepExecution.computes
    public static let settings = [StepSetting("value", .value, .any, required: true)]

    public init?(settings: StepSettings, body: [Step]) {
        guard let value = settings.value("value") else { return nil }
        self.init(value: value)
    }

    public var kind: Step.Kind { .set(self) }

    /// Left open: the value's own type would make later reads stricter than the run is.
    public func outputType(_ typing: OutputTyping) -> CELType { .dyn }
}
