/// Draws a plan's steps as a Mermaid flowchart: the run order, conditions, maps and loops.
///
/// Maps and loops become subgraphs holding their bodies; a loop gets a dashed edge back to
/// its first step labelled with its exit condition.
public struct MermaidGraph {
    private var lines: [String] = ["flowchart TD"]

    public init(plan: Plan) {
        lines.append("  start((\(Self.label(plan.name))))")
        var previous = "start"
        for step in plan.steps {
            add(step, after: previous, indent: "  ")
            previous = step.id
        }
        lines.append("  \(previous) --> finish((result))")
    }

    /// The flowchart's text.
    public var text: String { lines.joined(separator: "\n") + "\n" }

    private mutating func add(_ step: Step, after previous: String?, indent: String) {
        switch step.kind {
        case .map(let map):
            lines.append("\(indent)subgraph \(step.id)[\(Self.label("\(step.id): map over \(map.over.source)"))]")
            addBody(map.steps, indent: indent + "  ")
            lines.append("\(indent)end")
        case .loop(let loop):
            lines.append("\(indent)subgraph \(step.id)[\(Self.label("\(step.id): loop, at most \(Self.describe(loop.maxIterations)) rounds"))]")
            addBody(loop.steps, indent: indent + "  ")
            lines.append("\(indent)end")
            if let first = loop.steps.first, let last = loop.steps.last {
                let exit = loop.until.map { "until \($0.source)" } ?? "next round"
                lines.append("\(indent)\(last.id) -.->|\(Self.label(exit))| \(first.id)")
            }
        default:
            lines.append("\(indent)\(step.id)[\(Self.label("\(step.id) (\(step.kindName))\(Self.detail(step))"))]")
        }
        if let previous {
            if let when = step.when {
                lines.append("\(indent)\(previous) -->|\(Self.label("when \(when.source)"))| \(step.id)")
            } else {
                lines.append("\(indent)\(previous) --> \(step.id)")
            }
        }
    }

    private mutating func addBody(_ steps: [Step], indent: String) {
        var previous: String?
        for step in steps {
            add(step, after: previous, indent: indent)
            previous = step.id
        }
    }

    /// What a box says after `id (kind)`: a gate's dimensions, a call's plan… (also the web
    /// page's SVG graph, which draws the same boxes).
    public static func detail(_ step: Step) -> String {
        switch step.kind {
        case .gate(let gate): ": " + gate.dimensions.map(\.name).joined(separator: ", ")
        case .call(let call): ": " + call.plan
        case .validate(let validate): ": " + validate.items.source
        default: ""
        }
    }

    /// A number setting as a plan author wrote it: `3`, or the expression's source.
    public static func describe(_ setting: NumberSetting) -> String {
        switch setting {
        case .literal(let value): value == value.rounded() ? String(Int(value)) : String(value)
        case .expression(let expression): expression.source
        }
    }

    /// A quoted Mermaid label; quotes and angle brackets become entities so any text is safe.
    static func label(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "\"": escaped += "#quot;"
            case "<": escaped += "#lt;"
            case ">": escaped += "#gt;"
            case "|": escaped += "#124;"
            case "\n": escaped += " "
            default: escaped.append(character)
            }
        }
        return "\"\(escaped)\""
    }
}
