import SluiceJSON

/// Renders a Mustache template to a string (e.g. the final report).
public struct TemplateStep: Sendable {
    public var template: TemplateText
}

extension TemplateStep: StepKindDeclaration {
    public static let name = "template"
    public static let execution = StepExecution.computes
    public static let settings = [StepSetting("template", .template, .string, required: true)]

    public init?(settings: StepSettings, body: [Step]) {
        guard let template = settings.template("template") else { return nil }
        self.init(template: template)
    }

    public var kind: Step.Kind { .template(self) }

    public func outputType(_ typing: OutputTyping) -> CELType { .string }
}
