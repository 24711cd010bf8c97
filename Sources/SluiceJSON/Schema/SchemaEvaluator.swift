/// What in-place subschemas evaluated, for `unevaluatedItems`/`unevaluatedProperties`.
/// Only collected where a schema needs it, so plain schemas allocate nothing for it.
struct EvaluatedParts {
    var allProperties = false
    var properties: Set<String> = []
    var allItems = false
    var itemPrefix = 0
    var items: Set<Int> = []

    mutating func merge(_ other: EvaluatedParts) {
        allProperties = allProperties || other.allProperties
        properties.formUnion(other.properties)
        allItems = allItems || other.allItems
        itemPrefix = max(itemPrefix, other.itemPrefix)
        items.formUnion(other.items)
    }

    func containsProperty(_ name: String) -> Bool { allProperties || properties.contains(name) }

    func containsItem(_ index: Int) -> Bool { allItems || index < itemPrefix || items.contains(index) }
}

/// One step from a value to its child, kept as a stack so the instance path is only
/// turned into a ``JSONPointer`` when an error is reported.
enum InstancePathToken {
    case key(String)
    case index(Int)
}

/// Runs a ``SchemaProgram`` over one instance, collecting errors.
struct SchemaEvaluator {
    let program: SchemaProgram
    private(set) var errors: [SchemaValidationError] = []
    private var path: [InstancePathToken] = []
    /// The schema resources entered so far, outermost first: `$dynamicRef`'s dynamic scope.
    private var dynamicScope: [Int] = []
    /// References being followed, with the instance depth they were followed at: meeting
    /// the same target at the same depth again means an endless loop.
    private var activeReferences: [(target: Int, depth: Int)] = []

    init(program: SchemaProgram) {
        self.program = program
    }

    /// Evaluates `instance` against the root; reports every error when `report` is set,
    /// otherwise stops at the first failure.
    mutating func run(_ instance: JSONValue, report: Bool) -> Bool {
        var none: EvaluatedParts?
        return evaluate(program.root, instance, report: report, evaluated: &none)
    }

    /// Evaluates one schema against one value.
    ///
    /// - Parameter evaluated: when non-nil, receives what this schema evaluated, if it passes.
    mutating func evaluate(_ index: Int, _ instance: JSONValue, report: Bool, evaluated: inout EvaluatedParts?) -> Bool {
        let node = program.nodes[index]
        switch node.body {
        case .always(let verdict):
            if !verdict, report {
                fail("false", schemaPath: node.pointer, SchemaMessages.falseSchema)
            }
            return verdict
        case .keywords(let keywords):
            let entersResource = dynamicScope.last != node.resource
            if entersResource { dynamicScope.append(node.resource) }
            defer { if entersResource { dynamicScope.removeLast() } }
            var own: EvaluatedParts? = evaluated != nil || node.collectsAnnotations ? EvaluatedParts() : nil
            var valid = true
            let errorsBefore = errors.count
            for keyword in keywords {
                if !valid, keyword.isUnevaluated, failedOnDiscriminator(since: errorsBefore) { continue }
                if !apply(keyword, of: node, to: instance, report: report, evaluated: &own) {
                    valid = false
                    if !report { return false }
                }
            }
            // When reporting, a failed subschema's annotations are kept (the failure is already
            // reported, and the parent fails with it): `unevaluatedProperties` then flags only
            // really unknown members, not every member of a step whose other field was wrong.
            if valid || report, evaluated != nil, let own { evaluated?.merge(own) }
            return valid
        }
    }

    /// Whether a `const`/`enum` on this value or a member failed since `start` (a wrong
    /// `kind`): then no `if`/`then` applied, and `unevaluated*` would flag every field.
    private func failedOnDiscriminator(since start: Int) -> Bool {
        errors[start...].contains { error in
            (error.keyword == "const" || error.keyword == "enum") && error.instancePath.tokens.count <= depth + 1
        }
    }

    // MARK: - Helpers for keyword implementations

    /// Records an error at the current instance location.
    mutating func fail(_ keyword: String, schemaPath: JSONPointer, _ message: String) {
        errors.append(SchemaValidationError(instancePath: currentPath(), keyword: keyword, schemaPath: schemaPath, message: message))
    }

    /// Records an error at a child of the current instance location.
    mutating func fail(_ keyword: String, schemaPath: JSONPointer, at child: InstancePathToken, _ message: String) {
        path.append(child)
        fail(keyword, schemaPath: schemaPath, message)
        path.removeLast()
    }

    func currentPath() -> JSONPointer {
        var pointer = JSONPointer.root
        for token in path {
            switch token {
            case .key(let key): pointer = pointer.appending(key)
            case .index(let index): pointer = pointer.appending(index: index)
            }
        }
        return pointer
    }

    var depth: Int { path.count }

    /// Evaluates a subschema against a child of the instance. A `false` subschema is reported
    /// with `falseMessage` under the parent's keyword, which says more than "not allowed".
    mutating func evaluateChild(
        _ schema: Int, _ value: JSONValue, at token: InstancePathToken, report: Bool,
        keyword: String, falseMessage: @autoclosure () -> String
    ) -> Bool {
        if case .always(false) = program.nodes[schema].body {
            if report { fail(keyword, schemaPath: program.nodes[schema].pointer, at: token, falseMessage()) }
            return false
        }
        guard depth < JSONSchema.maxInstanceDepth else {
            if report { fail("maxDepth", schemaPath: program.nodes[schema].pointer, at: token, SchemaMessages.tooDeep) }
            return false
        }
        path.append(token)
        defer { path.removeLast() }
        var none: EvaluatedParts?
        return evaluate(schema, value, report: report, evaluated: &none)
    }

    /// Evaluates a subschema against a child without reporting, for `contains`/`propertyNames`.
    mutating func matchesChild(_ schema: Int, _ value: JSONValue, at token: InstancePathToken) -> Bool {
        guard depth < JSONSchema.maxInstanceDepth else { return false }
        path.append(token)
        defer { path.removeLast() }
        var none: EvaluatedParts?
        return evaluate(schema, value, report: false, evaluated: &none)
    }

    /// The errors a subschema reports for the instance, without adding them to `errors`.
    mutating func errorsOf(_ schema: Int, _ instance: JSONValue, at token: InstancePathToken? = nil) -> [SchemaValidationError] {
        let saved = errors
        errors = []
        if let token { path.append(token) }
        var none: EvaluatedParts?
        _ = evaluate(schema, instance, report: true, evaluated: &none)
        if token != nil { path.removeLast() }
        let found = errors
        errors = saved
        return found
    }

    mutating func appendErrors(_ more: [SchemaValidationError]) {
        errors.append(contentsOf: more)
    }

    /// Follows `$ref`/`$dynamicRef` to `target`, guarding against references that loop
    /// without moving into the instance.
    mutating func follow(_ target: Int, from node: SchemaNode, keyword: String, _ instance: JSONValue, report: Bool, evaluated: inout EvaluatedParts?) -> Bool {
        for active in activeReferences.reversed() {
            guard active.depth == depth else { break }
            if active.target == target {
                if report { fail(keyword, schemaPath: node.pointer.appending(keyword), SchemaMessages.referenceLoop) }
                return false
            }
        }
        activeReferences.append((target, depth))
        defer { activeReferences.removeLast() }
        return evaluate(target, instance, report: report, evaluated: &evaluated)
    }

    /// Where `$dynamicRef` with `anchor` lands: the outermost resource in the dynamic scope
    /// that declares that `$dynamicAnchor`, else the static target.
    func dynamicTarget(_ reference: DynamicReference) -> Int {
        guard let anchor = reference.anchor else { return reference.target }
        for resource in dynamicScope {
            if let target = program.dynamicAnchors[resource]?[anchor] { return target }
        }
        return reference.target
    }
}
