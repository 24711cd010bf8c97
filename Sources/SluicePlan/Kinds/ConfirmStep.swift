import SluiceJSON

/// Asks a person to approve before going on.
public struct ConfirmStep: Sendable {
    public enum Fallback: String, Sendable, CaseIterable {
        /// Fail the run when nobody can be asked.
        case fail
        /// Go on as if approved when nobody can be asked.
        case approve
    }

    public var details: PlanValue?
    /// When true, the step approves without asking (e.g. `inputs.auto_confirm`).
    public var autoApprove: PlanExpression?
    public var fallback: Fallback
}

extension ConfirmStep: StepKindDeclaration {
    public static let name = "confirm"
    public static let execution = StepExecution.acts
    // `message` and `details` are common settings; the schema redescribes them for this kind.
    public static let settings = [
        StepSetting("message", .template, .string),
        StepSetting("details", .value, .any),
        StepSetting("auto_approve", .expression, .bool),
        StepSetting("fallback", .literal, .oneOf(Fallback.allCases.map(\.rawValue))),
    ]

    public init?(settings: StepSettings, body: [Step]) {
        self.init(
            details: settings.value("details"), autoApprove: settings.expression("auto_approve"),
            fallback: settings.string("fallback").flatMap(Fallback.init(rawValue:)) ?? .fail)
    }

    public var kind: Step.Kind { .confirm(self) }

    public func outputType(_ typing: OutputTyping) -> CELType { .object(["approved": .bool], closed: true) }
}
