import SluiceJSON
import SluicePlan

/// What expressions and templates see at one point of a run, and where events are attributed.
///
/// A value type: a map item or a loop round works on its own copy, so a body's steps are
/// visible only inside it (see docs/plan-language.md, "Context").
struct Scope: Sendable {
    var inputs: JSONValue
    /// Step id → `{"output": value}`.
    var steps: JSONObject = JSONObject()
    /// Names bound by enclosing maps (`item` or the map's `as`, and `index`), innermost last.
    var locals: [(name: String, value: JSONValue)] = []
    /// `{iteration, best, feedback}` inside a loop body.
    var loop: JSONValue?
    /// The map item index for events.
    var item: Int?
    /// The loop round for events.
    var iteration: Int?
    /// The enclosing map or loop step, for `step.started`'s `parent`.
    var parent: String?
    /// Prefixes step ids in events inside a called plan (`call_step.`).
    var eventPrefix: String = ""

    init(inputs: JSONValue) {
        self.inputs = inputs
    }

    func output(of step: String) -> JSONValue? {
        steps[step]?["output"]
    }

    mutating func setOutput(_ value: JSONValue, of step: String) {
        steps[step] = ["output": value]
    }

    mutating func bind(_ name: String, to value: JSONValue) {
        locals.removeAll { $0.name == name }
        locals.append((name, value))
    }

    /// The context as one JSON object, for templates.
    var json: JSONValue {
        var object: JSONObject = ["inputs": inputs, "steps": .object(steps)]
        for (name, value) in locals { object[name] = value }
        if let loop { object["loop"] = loop }
        return .object(object)
    }

    /// The context as CEL bindings, for expressions.
    var bindings: [String: CELValue] {
        var result: [String: CELValue] = ["inputs": CELValue(json: inputs), "steps": CELValue(json: .object(steps))]
        for (name, value) in locals { result[name] = CELValue(json: value) }
        if let loop { result["loop"] = CELValue(json: loop) }
        return result
    }
}
