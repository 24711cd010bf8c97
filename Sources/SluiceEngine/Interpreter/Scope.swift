import SluiceJSON
import SluicePlan
import SluiceRunLog

/// What expressions and templates see at one point of a run, and where events are attributed.
///
/// A value type: a map item or a loop round works on its own copy, so a body's steps are
/// visible only inside it (see docs/plan-language.md, "Context").
///
/// #### Memory
/// Thousands of runs hold their scopes at once, so a scope shares rather than copies:
/// - A map item's or loop round's scope is a child of the enclosing one: it keeps only what its
///   body adds and looks the rest up in its parent, instead of copying every earlier output.
/// - Outputs are ``StepValue``s, shared by every scope that sees them (a loop's best round
///   lifted after it, too); an expression gets only the parts it reads as CEL values.
/// - The state sits in one copy-on-write box, so a copy costs a reference until it changes.
struct Scope: Sendable {
    private struct State {
        /// The enclosing scope (of the map or loop step), or nil at the top of a plan.
        var parent: Scope?
        var inputs: JSONValue
        var inputsCEL: CELValue
        /// Outputs recorded in this scope, in order; a later one of the same id replaces it.
        var outputs: [(id: String, value: StepValue)] = []
        /// Names bound by this scope's map (`item` or the map's `as`, and `index`).
        var locals: [(name: String, value: JSONValue, cel: CELValue)] = []
        /// `{iteration, best, feedback}` inside a loop body.
        var loop: StepValue?
        var item: Int?
        var iteration: Int?
        var parentStep: String?
        var eventPrefix = ""
        var path = ""
    }

    /// Changed only while uniquely referenced (see ``mutate(_:)``), hence unchecked.
    private final class Box: @unchecked Sendable {
        var state: State
        init(_ state: State) { self.state = state }
    }

    private var box: Box

    @inline(never)
    private mutating func mutate(_ change: (inout State) -> Void) {
        if !isKnownUniquelyReferenced(&box) { box = Box(box.state) }
        change(&box.state)
    }

    /// - Parameter schema: the inputs' JSON Schema: inputs are bound by their declared types
    ///   (a `number` input is a CEL double even when written `8`).
    @inline(never)
    init(inputs: JSONValue, schema: JSONValue) {
        box = Box(State(inputs: inputs, inputsCEL: CELValue(json: inputs, as: CELType(jsonSchema: schema))))
    }

    /// A scope for a map item or a loop round inside this one: it sees everything this one
    /// does, and what its body adds stays in it.
    @inline(never)
    func child() -> Scope {
        let state = box.state
        var child = State(parent: self, inputs: state.inputs, inputsCEL: state.inputsCEL)
        child.item = state.item
        child.iteration = state.iteration
        child.parentStep = state.parentStep
        child.eventPrefix = state.eventPrefix
        child.path = state.path
        var scope = self
        scope.box = Box(child)
        return scope
    }

    var inputs: JSONValue { box.state.inputs }

    /// The map item index for events.
    var item: Int? {
        get { box.state.item }
        set { mutate { $0.item = newValue } }
    }

    /// The loop round for events.
    var iteration: Int? {
        get { box.state.iteration }
        set { mutate { $0.iteration = newValue } }
    }

    /// The enclosing map or loop step, for `step.started`'s `parent`.
    var parent: String? {
        get { box.state.parentStep }
        set { mutate { $0.parentStep = newValue } }
    }

    /// Prefixes step ids in events inside a called plan (`call_step.`).
    var eventPrefix: String {
        get { box.state.eventPrefix }
        set { mutate { $0.eventPrefix = newValue } }
    }

    /// The enclosing map items and loop rounds (`sections[2]/`, `research#3/`), so every step
    /// execution has its own checkpoint key, even in nested maps.
    var path: String {
        get { box.state.path }
        set { mutate { $0.path = newValue } }
    }

    /// The checkpoint key of `step` here (see ``StepCheckpoint/key``).
    @inline(never)
    func checkpointKey(_ step: String) -> String {
        path + eventPrefix + step
    }

    /// The output of `step` as this scope sees it.
    @inline(never)
    func value(of step: String) -> StepValue? {
        var scope: Scope? = self
        while let current = scope {
            if let found = current.box.state.outputs.last(where: { $0.id == step }) { return found.value }
            scope = current.box.state.parent
        }
        return nil
    }

    func output(of step: String) -> JSONValue? {
        value(of: step)?.json
    }

    /// Records a step's output; `schema` (a structured step's output schema) types its numbers.
    @inline(never)
    mutating func setOutput(_ value: JSONValue, of step: String, schema: JSONValue? = nil) {
        setOutput(StepValue(value, schema: schema), of: step)
    }

    /// Records a step's output as it is (a loop's best round, lifted after the loop).
    @inline(never)
    mutating func setOutput(_ value: StepValue, of step: String) {
        mutate { $0.outputs.append((step, value)) }
    }

    @inline(never)
    mutating func bind(_ name: String, to value: JSONValue) {
        let cel = CELValue(json: value)
        mutate { state in
            state.locals.removeAll { $0.name == name }
            state.locals.append((name, value, cel))
        }
    }

    @inline(never)
    mutating func setLoop(_ value: JSONValue) {
        mutate { $0.loop = StepValue(value, schema: nil) }
    }

    /// Visits every scope from the top of the plan down to this one (inner ones override).
    private func visitFromTop(_ body: (State) -> Void) {
        box.state.parent?.visitFromTop(body)
        body(box.state)
    }

    /// The context as one JSON object, for templates.
    @inline(never)
    var json: JSONValue {
        var steps = JSONObject()
        var locals: [(name: String, value: JSONValue)] = []
        var loop: JSONValue?
        visitFromTop { state in
            for (id, value) in state.outputs { steps[id] = ["output": value.json] }
            for local in state.locals { locals.append((local.name, local.value)) }
            if let value = state.loop { loop = value.json }
        }
        var object: JSONObject = ["inputs": inputs, "steps": .object(steps)]
        for (name, value) in locals { object[name] = value }
        if let loop { object["loop"] = loop }
        return .object(object)
    }

    /// The context as CEL bindings for `expression`: what it reads of the outputs (all of
    /// them when it uses `steps` as a whole) and of the loop, the inputs and map names.
    @inline(never)
    func bindings(for expression: PlanExpression) -> [String: CELValue] {
        var result: [String: CELValue] = [:]
        var steps = CELMap()
        var loop: StepValue?
        let reads = expression.stepReads
        visitFromTop { state in
            if reads == nil {
                for (id, value) in state.outputs { steps.insert(.string(id), value.celEntry(reading: .all)) }
            }
            for local in state.locals { result[local.name] = local.cel }
            if let value = state.loop { loop = value }
        }
        for (id, read) in reads ?? [:] {
            if let value = value(of: id) { steps.insert(.string(id), value.celEntry(reading: read)) }
        }
        result["inputs"] = box.state.inputsCEL
        result["steps"] = .map(steps)
        if let loop, let read = expression.loopReads { result["loop"] = loop.cel(reading: read) }
        return result
    }
}

/// A step's output: JSON for templates, events and checkpoints; an expression gets the parts
/// it reads as CEL values, converted for that evaluation.
///
/// Not cached: a cached conversion would stay as long as the output, doubling what every
/// waiting run holds, while converting only what an expression reads costs about as much as
/// rendering a template from the same output.
final class StepValue: Sendable {
    let json: JSONValue
    /// A structured step's output schema, which types its numbers in CEL.
    private let schema: JSONValue?

    init(_ json: JSONValue, schema: JSONValue?) {
        self.json = json
        self.schema = schema
    }

    /// What `reads` names of the output, as a CEL value.
    func cel(reading reads: OutputReads) -> CELValue {
        CELValue(json: json, as: schema.map(CELType.init(jsonSchema:)) ?? .dyn, reading: reads)
    }

    /// `{"output": value}`, as `steps.<id>` reads.
    func celEntry(reading reads: OutputReads) -> CELValue {
        .map(CELMap([(.string("output"), cel(reading: reads))]))
    }
}
