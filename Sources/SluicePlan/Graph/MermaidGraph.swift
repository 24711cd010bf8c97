/// Draws a plan's steps as a Mermaid flowchart: the run order, conditions, maps and loops.
///
/// Each kind's declaration says how it is drawn (``StepDrawing``): maps and loops become
/// subgraphs holding their bodies; a loop gets a dashed edge back to its first step labelled
/// with its exit condition.
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
        switch step.declaration.drawing(of: step) {
        case .group(let label, let body, let backEdge):
            lines.append("\(indent)subgraph \(step.id)[\(Self.label(label))]")
            addBody(body, indent: indent + "  ")
            lines.append("\(indent)end")
            if let backEdge, let first = body.first, let last = body.last {
                lines.append("\(indent)\(last.id) -.->|\(Self.label(backEdge))| \(first.id)")
            }
        case .node(let detail):
            lines.append("\(indent)\(step.id)[\(Self.label("\(step.id) (\(step.kindName))\(detail.map { ": " + $0 } ?? "")"))]")
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
