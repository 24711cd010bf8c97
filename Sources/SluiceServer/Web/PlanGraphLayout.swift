import SluiceJSON
import SluicePlan

/// The step graph `sluice graph` draws (``MermaidGraph``), laid out for the plan page's SVG:
/// one column in run order, a `map` or `loop` as a box around its body, a loop's dashed edge
/// back to its first step labelled with its exit condition, a `when` on the edge into its step.
///
/// The page draws the boxes with DOM calls from these numbers and strings (never markup), so a
/// plan's text cannot become markup on the page.
struct PlanGraphLayout {
    static let width = 360.0
    static let nodeHeight = 34.0
    static let gap = 26.0
    static let inset = 14.0
    static let header = 24.0
    static let margin = 10.0

    private var nodes: [JSONValue] = []
    private var groups: [JSONValue] = []
    private var edges: [JSONValue] = []
    private var y = margin

    init(plan: Plan) {
        let start = placeNode(id: "start", label: plan.name, kind: "start", depth: 0)
        let last = placeSteps(plan.steps, depth: 0, after: start)?.last ?? start
        y += Self.gap
        let finish = placeNode(id: "finish", label: "result", kind: "end", depth: 0)
        addEdge(from: last, to: finish.top, label: nil)
    }

    /// `{width, height, nodes, groups, edges}`; coordinates in SVG user units.
    var json: JSONValue {
        [
            "width": .double(Self.width + 2 * Self.margin), "height": .double(y + Self.margin),
            "nodes": .array(nodes), "groups": .array(groups), "edges": .array(edges),
        ]
    }

    private static var centerX: Double { margin + width / 2 }

    private struct Placed {
        var top: Double
        var bottom: Double
        var middle: Double { (top + bottom) / 2 }
    }

    /// Places `steps` one under the other, each joined to the one before (the first to
    /// `after` when given); the first and last placed, nil for no steps.
    private mutating func placeSteps(_ steps: [Step], depth: Int, after: Placed?) -> (first: Placed, last: Placed)? {
        var previous = after
        var first: Placed?
        for step in steps {
            if previous != nil { y += Self.gap }
            let placed = place(step, depth: depth)
            if let previous { addEdge(from: previous, to: placed.top, label: step.when.map { "when \($0.source)" }) }
            first = first ?? placed
            previous = placed
        }
        guard let first, let previous else { return nil }
        return (first, previous)
    }

    /// Draws a step as its kind's declaration says (``StepDrawing``), as `sluice graph` does.
    private mutating func place(_ step: Step, depth: Int) -> Placed {
        switch step.declaration.drawing(of: step) {
        case .node(let detail):
            return placeNode(id: step.id, label: "\(step.id) (\(step.kindName))\(detail.map { ": " + $0 } ?? "")", kind: step.kindName, depth: depth)
        case .group(let label, let body, let backEdge):
            let top = y
            y += Self.header
            let placedBody = placeSteps(body, depth: depth + 1, after: nil)
            y += Self.inset
            let (x, width) = Self.span(depth: depth)
            groups.append(["id": .string(step.id), "label": .string(label), "kind": .string(step.kindName), "x": .double(x), "y": .double(top), "w": .double(width), "h": .double(y - top)])
            if let backEdge, let (first, last) = placedBody {
                let right = Self.span(depth: depth + 1).x + Self.span(depth: depth + 1).width
                let bend = right + Self.inset / 2
                edges.append([
                    "points": [[.double(right), .double(last.middle)], [.double(bend), .double(last.middle)], [.double(bend), .double(first.middle)], [.double(right), .double(first.middle)]],
                    "dashed": true, "label": .string(backEdge),
                ])
            }
            return Placed(top: top, bottom: y)
        }
    }

    private mutating func placeNode(id: String, label: String, kind: String, depth: Int) -> Placed {
        let (x, width) = Self.span(depth: depth)
        nodes.append(["id": .string(id), "label": .string(label), "kind": .string(kind), "x": .double(x), "y": .double(y), "w": .double(width), "h": .double(Self.nodeHeight)])
        let placed = Placed(top: y, bottom: y + Self.nodeHeight)
        y += Self.nodeHeight
        return placed
    }

    private mutating func addEdge(from previous: Placed, to top: Double, label: String?) {
        var edge: JSONObject = ["points": [[.double(Self.centerX), .double(previous.bottom)], [.double(Self.centerX), .double(top)]]]
        if let label { edge["label"] = .string(label) }
        edges.append(.object(edge))
    }

    /// The left edge and width of a box `depth` boxes deep.
    private static func span(depth: Int) -> (x: Double, width: Double) {
        let indent = Double(depth) * inset
        return (margin + indent, width - 2 * indent)
    }
}
