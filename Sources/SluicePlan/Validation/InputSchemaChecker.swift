import SluiceJSON

/// Checks of the plan's `inputs` schema that a JSON Schema validator does not make, because
/// the schema is valid JSON Schema and still not what the author meant:
///
/// - a keyword that looks like a misspelt JSON Schema keyword (`"defualt": 2`): JSON Schema
///   ignores unknown keywords, so the default silently does not exist and the run fails later
///   on the missing input. A keyword not close to any known one stays allowed (extension
///   keywords such as `x-ui` are legal JSON Schema).
/// - a `default` that the input's own schema refuses (`"default": 75` with `"maximum": 10`),
///   which otherwise fails every run that leaves the input out.
struct InputSchemaChecker {
    let source: PlanSource
    private(set) var diagnostics: [PlanDiagnostic] = []

    init(source: PlanSource) {
        self.source = source
    }

    mutating func check() {
        guard let inputs = source.document.value["inputs"] else { return }
        let root = JSONPointer.root.appending("inputs")
        checkKeywords(inputs, at: root, input: nil, depth: 0)
        for (name, property) in inputs["properties"]?.objectValue ?? JSONObject() {
            checkDefault(of: name, property, at: root.appending("properties").appending(name))
        }
    }

    /// How deep the walk follows nested subschemas; the JSON parser bounds nesting anyway.
    private static let maxDepth = 64

    /// Reports misspelt keywords in the schema `value` and in every subschema inside it.
    /// - Parameter input: the top-level input this schema belongs to, for the message.
    private mutating func checkKeywords(_ value: JSONValue, at pointer: JSONPointer, input: String?, depth: Int) {
        guard let object = value.objectValue, depth < Self.maxDepth else { return }
        for (key, member) in object {
            let memberPointer = pointer.appending(key)
            if !SchemaKeywords.known.contains(key), let suggestion = SchemaKeywords.suggestion(for: key) {
                let place = input.map { "the schema of input '\($0)'" } ?? "the input schema"
                report("unknown keyword '\(key)' in \(place) — did you mean '\(suggestion)'?", at: memberPointer, key: true)
                continue
            }
            let isRoot = pointer.tokens.count == 1
            switch key {
            case _ where SchemaKeywords.schemaArrays.contains(key):
                for (index, item) in (member.arrayValue ?? []).enumerated() {
                    checkKeywords(item, at: memberPointer.appending(index: index), input: input, depth: depth + 1)
                }
                if member.objectValue != nil { checkKeywords(member, at: memberPointer, input: input, depth: depth + 1) }
            case _ where SchemaKeywords.schemaValued.contains(key):
                checkKeywords(member, at: memberPointer, input: input, depth: depth + 1)
            case _ where SchemaKeywords.schemaMaps.contains(key):
                for (name, schema) in member.objectValue ?? JSONObject() {
                    // Below the root's `properties`, the member name is the input's name.
                    let owner = isRoot && key == "properties" ? name : input
                    checkKeywords(schema, at: memberPointer.appending(name), input: owner, depth: depth + 1)
                }
            default:
                break
            }
        }
    }

    /// Reports a `default` its own input's schema refuses.
    private mutating func checkDefault(of name: String, _ property: JSONValue, at pointer: JSONPointer) {
        guard let value = property["default"] else { return }
        // A schema that only makes sense inside the whole `inputs` (a `$ref` to its `$defs`)
        // does not compile alone; its default is then checked when a run fills it in.
        guard let schema = try? JSONSchema(property), let first = schema.validate(value).first else { return }
        let detail = first.instancePath.tokens.isEmpty ? first.message : "\(first.message) (at \(first.instancePath))"
        report("the default of input '\(name)' does not match its schema: \(detail)", at: pointer.appending("default"), key: false)
    }

    private mutating func report(_ message: String, at pointer: JSONPointer, key: Bool) {
        let location = (key ? source.document.keyLocation(of: pointer) : nil) ?? source.location(of: pointer)
        diagnostics.append(
            PlanDiagnostic(code: .inputSchema, message: message, pointer: pointer, location: location, file: source.path))
    }
}

/// The keywords of JSON Schema, and which of them hold subschemas.
enum SchemaKeywords {
    /// Keywords holding one subschema.
    static let schemaValued: Set<String> = [
        "additionalProperties", "unevaluatedProperties", "unevaluatedItems", "items", "additionalItems",
        "contains", "propertyNames", "not", "if", "then", "else", "contentSchema",
    ]
    /// Keywords holding an array of subschemas (`items` held one before draft 2020-12).
    static let schemaArrays: Set<String> = ["allOf", "anyOf", "oneOf", "prefixItems", "items"]
    /// Keywords holding an object of named subschemas.
    static let schemaMaps: Set<String> = [
        "properties", "patternProperties", "$defs", "definitions", "dependentSchemas",
    ]

    /// Every keyword of draft 2020-12 (all vocabularies) and the draft-07 ones still common.
    static let known: Set<String> = schemaValued.union(schemaArrays).union(schemaMaps).union([
        "$schema", "$id", "$ref", "$anchor", "$dynamicRef", "$dynamicAnchor", "$vocabulary", "$comment",
        "$recursiveRef", "$recursiveAnchor",
        "type", "enum", "const", "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum",
        "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems", "maxContains", "minContains",
        "maxProperties", "minProperties", "required", "dependentRequired", "dependencies",
        "title", "description", "default", "deprecated", "readOnly", "writeOnly", "examples",
        "format", "contentEncoding", "contentMediaType",
    ])

    /// `known` in a fixed order, so ties between suggestions always go the same way.
    private static let ordered = known.sorted()

    /// The known keyword `key` is most likely a misspelling of, or nil when none is close.
    ///
    /// Close means a different case only, or at most one edit (insertion, deletion,
    /// substitution or swap of neighbours) for keywords up to 5 characters and two for longer
    /// ones: near enough to catch `defualt`, `maximim` and `requried`, far enough that
    /// extension keywords (`x-order`, `ui`) pass.
    static func suggestion(for key: String) -> String? {
        let lowered = key.lowercased()
        var best: (keyword: String, distance: Int)?
        for keyword in ordered {
            let candidate = keyword.lowercased()
            if candidate == lowered { return keyword }
            let allowed = candidate.count <= 5 ? 1 : 2
            guard abs(candidate.count - lowered.count) <= allowed else { continue }
            let distance = editDistance(Array(lowered), Array(candidate), limit: allowed)
            if distance <= allowed, distance < (best?.distance ?? .max) { best = (keyword, distance) }
        }
        return best?.keyword
    }

    /// The optimal-string-alignment distance between `a` and `b`, or `limit + 1` once it is
    /// sure to exceed `limit` (keys can be long; keywords are short).
    static func editDistance(_ a: [Character], _ b: [Character], limit: Int) -> Int {
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var previousPrevious = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            var rowMinimum = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    value = min(value, previousPrevious[j - 2] + 1)
                }
                current[j] = value
                rowMinimum = min(rowMinimum, value)
            }
            if rowMinimum > limit { return limit + 1 }
            (previousPrevious, previous, current) = (previous, current, previousPrevious)
        }
        return previous[b.count]
    }
}
