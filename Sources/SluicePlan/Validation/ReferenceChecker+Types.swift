import SluiceJSON

/// The static types the reference checker works out: what a loop body sees as `loop`, what a
/// value evaluated in a body gives, and whether the plan's output value fits its schema.
extension ReferenceChecker {
    /// `loop` inside a loop body: `best` is the best round so far, `feedback` the output of the
    /// body's last gate in the previous round (both null in the first round).
    func loopType(of loop: Step) -> CELType {
        let typing = presumedTyping(of: loop)
        let gates = loop.body.filter { if case .gate = $0.kind { true } else { false } }
        return .object(
            [
                "iteration": .int, "best": LoopStep.bestType(typing),
                "feedback": gates.last.map { presumedOutputType(of: $0) } ?? .dyn,
            ], closed: true)
    }

    /// A step's output type before its body is checked (what `loop.best` is typed by): like the
    /// checked one, except that values computed in a body (a map's `result`) are only typed
    /// when literal.
    func presumedOutputType(of step: Step) -> CELType {
        step.declaration.outputType(presumedTyping(of: step))
    }

    func presumedTyping(of step: Step) -> OutputTyping {
        OutputTyping(
            body: step.body.map { ($0.id, presumedOutputType(of: $0)) },
            valueInBody: { if case .literal(let json) = $0 { Self.literalType(json) } else { .dyn } },
            calledPlanOutput: calledPlanOutput)
    }

    /// The static type of a value evaluated in `scope`.
    func valueType(_ value: PlanValue, in scope: Scope) -> CELType {
        switch value {
        case .literal(let json): Self.literalType(json)
        case .expression(let expression): expression.compiled.resultType(environment(for: scope))
        case .template: .string
        case .array(let items):
            .list(Self.common(items.map { valueType($0, in: scope) }))
        case .object(let members):
            .object(Dictionary(members.map { ($0.key, valueType($0.value, in: scope)) }, uniquingKeysWith: { $1 }), closed: true)
        }
    }

    static func literalType(_ json: JSONValue) -> CELType {
        switch json {
        case .string: .string
        case .integer: .int
        case .double: .double
        case .bool: .bool
        case .null: .null
        case .array(let items): .list(common(items.map(literalType)))
        case .object(let object):
            .object(Dictionary(object.members.map { ($0.key, literalType($0.value)) }, uniquingKeysWith: { $1 }), closed: true)
        }
    }

    /// The one type all of `types` have, or `dyn`.
    static func common(_ types: [CELType]) -> CELType {
        guard let first = types.first, types.allSatisfy({ $0 == first }) else { return .dyn }
        return first
    }

    /// Each expression of the plan's output value against the type its place in the output
    /// schema asks for (`"sections_count": "${inputs.company}"` against `"type": "integer"`),
    /// as far as both are known: the run would otherwise fail only at its very end.
    func checkOutputTypes(_ value: PlanValue, schema: JSONValue?, in scope: Scope) {
        guard let schema else { return }
        switch value {
        case .literal:
            return
        case .expression(let expression):
            let type = expression.compiled.resultType(environment(for: scope))
            guard let allowed = Self.jsonTypes(schema), !allowed.isEmpty, type != .dyn, !allowed.contains(where: { Self.fits(type, $0) }) else { return }
            report(
                .expression, "the output schema wants \(allowed.joined(separator: " or ")) here, but this expression is of type \(type)",
                expression.pointer, expression.offsetInString)
        case .template(let template):
            guard let allowed = Self.jsonTypes(schema), !allowed.isEmpty, !allowed.contains("string") else { return }
            report(
                .expression, "the output schema wants \(allowed.joined(separator: " or ")) here, but a template always gives a string",
                template.pointer, nil)
        case .array(let items):
            for item in items { checkOutputTypes(item, schema: schema["items"], in: scope) }
        case .object(let members):
            for (key, member) in members { checkOutputTypes(member, schema: schema["properties"]?[key], in: scope) }
        }
    }

    /// The JSON types a schema's `type` names (nil without one).
    static func jsonTypes(_ schema: JSONValue) -> [String]? {
        if let single = schema["type"]?.stringValue { return [single] }
        return schema["type"]?.arrayValue?.compactMap(\.stringValue)
    }

    static func fits(_ type: CELType, _ jsonType: String) -> Bool {
        switch (jsonType, type) {
        case ("integer", .int), ("integer", .uint), ("number", .int), ("number", .uint), ("number", .double), ("string", .string),
            ("boolean", .bool), ("array", .list), ("object", .map), ("object", .object), ("null", .null):
            true
        default:
            false
        }
    }
}
