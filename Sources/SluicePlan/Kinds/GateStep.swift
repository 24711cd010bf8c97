import SluiceJSON

/// A quality gate: a judge scores rubric dimensions; the weighted score meets a threshold or not.
public struct GateStep: Sendable {
    public struct Dimension: Sendable, Hashable {
        public var name: String
        public var weight: Double
        public var description: String?
    }

    public var prompt: TemplateText
    public var model: String?
    public var dimensions: [Dimension]
    public var threshold: NumberSetting
    public var scaleMin: Double
    public var scaleMax: Double
}

extension GateStep: StepKindDeclaration {
    public static let name = "gate"
    public static let execution = StepExecution.acts
    public static let settings = [
        StepSetting("prompt", .template, .string, required: true),
        StepSetting("model", .literal, .string),
        StepSetting("dimensions", .literal, .list, required: true),
        // Within the gate's own scale: see bounds(of:).
        StepSetting("threshold", .numberOrExpression, .number, required: true),
        StepSetting("scale", .literal, .object),
    ]

    public init?(settings: StepSettings, body: [Step]) {
        guard let prompt = settings.template("prompt"), let threshold = settings.number("threshold") else { return nil }
        let dimensions = (settings.literal("dimensions")?.arrayValue ?? []).compactMap { dimension -> Dimension? in
            guard let name = dimension["name"]?.stringValue else { return nil }
            return Dimension(name: name, weight: dimension["weight"]?.doubleValue ?? 1, description: dimension["description"]?.stringValue)
        }
        let scale = settings.literal("scale")
        self.init(
            prompt: prompt, model: settings.string("model"), dimensions: dimensions, threshold: threshold,
            scaleMin: scale?["min"]?.doubleValue ?? 0, scaleMax: scale?["max"]?.doubleValue ?? 10)
    }

    public var kind: Step.Kind { .gate(self) }

    /// The judge's scores and verdict (Interpreter+Gate).
    public func outputType(_ typing: OutputTyping) -> CELType {
        .object(
            [
                "scores": .map(key: .string, value: .double), "score": .double, "threshold": .double,
                "passed": .bool, "feedback": .string, "iteration": .int,
            ], closed: true)
    }

    public func drawing(of step: Step) -> StepDrawing {
        .node(detail: dimensions.map(\.name).joined(separator: ", "))
    }

    /// A threshold outside the scale can never be met (or is always met).
    public func bounds(of setting: StepSetting) -> SettingBounds? {
        setting.name == "threshold" ? .within(scaleMin, scaleMax) : setting.bounds
    }
}
