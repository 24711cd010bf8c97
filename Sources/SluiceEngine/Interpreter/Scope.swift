import SluiceJSON
import SluicePlan

/// What expressions and templates see at one point of a run, and where events are attributed.
///
/// A value type: a map item or a loop round works on its own copy, so a body's steps are
/// visible only inside it (see docs/plan-language.md, "Context").
struct Scope: Sendable {
    private(set) var inputs: JSONValue
    /// Step id → `{"output": value}`.
    private(set) var steps: JSONObject = JSONObject()
    /// Names bound by enclosing maps (`item` or the map's `as`, and `index`), innermost last.
    private(set) var locals: [(name: String, value: JSONValue)] = []
    /// `{iteration, best, feedback}` inside a loop body.
    private(set) var loop: JSONValue?
    /// The map item index for events.
    var item: Int?
    /// The loop round for events.
    var iteration: Int?
    /// The enclosing map or loop step, for `step.started`'s `parent`.
    var parent: String?
    /// Prefixes step ids in events inside a called plan (`call_step.`).
    var eventPrefix: String = ""
    /// The enclosing map items and loop rounds (`sections[2]/`, `research#3/`), so every step
    /// execution has its own checkpoint key, even in nested maps.
    var path: String = ""

    /// The checkpoint key of `step` here (see ``StepCheckpoint/key``).
    func checkpointKey(_ step: String) -> String {
        path + eventPrefix + step
    }

    // The same context as CEL values, kept up to date as it changes, so evaluating an
    // expression does not convert the whole context again (a map over 1,000 inputs would
    // otherwise convert them for every item).
    private var inputsCEL: CELValue
    private var stepsCEL = CELMap()
    private var localsCEL: [String: CELValue] = [:]
    private var loopCEL: CELValue?

    /// - Parameter schema: the inputs' JSON Schema: inputs are bound by their declared types
    ///   (a `number` input is a CEL double even when written `8`).
    init(inputs: JSONValue, schema: JSONValue) {
        self.inputs = inputs
        self.inputsCEL = CELValue(json: inputs, as: CELType(jsonSchema: schema))
    }

    func output(of step: String) -> JSONValue? {
        steps[step]?["output"]
    }

    /// Records a step's output; `schema` (a structured step's output schema) types its numbers.
    mutating func setOutput(_ value: JSONValue, of step: String, schema: JSONValue? = nil) {
        steps[step] = ["output": value]
        let cel = schema.map { CELValue(json: value, as: CELType(jsonSchema: $0)) } ?? CELValue(json: value)
        stepsCEL.insert(.string(step), .map(CELMap([(.string("output"), cel)])))
    }

    mutating func bind(_ name: String, to value: JSONValue) {
        locals.removeAll { $0.name == name }
        locals.append((name, value))
        localsCEL[name] = CELValue(json: value)
    }

    mutating func setLoop(_ value: JSONValue) {
        loop = value
        loopCEL = CELValue(json: value)
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
        var result = localsCEL
        result["inputs"] = inputsCEL
        result["steps"] = .map(stepsCEL)
        if let loopCEL { result["loop"] = loopCEL }
        return result
    }
}
