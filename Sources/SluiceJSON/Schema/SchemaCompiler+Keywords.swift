/// Compiles the keywords of one object schema, in evaluation order (which is also the order
/// errors are reported in): references, assertions, applicators, and `unevaluated*` last (they need the
/// annotations of all the others).
struct KeywordBuilder {
    let object: JSONObject
    let location: SchemaLocation
    let scope: LocationScope

    private var keywords: [SchemaKeyword] = []

    init(object: JSONObject, location: SchemaLocation, scope: LocationScope) {
        self.object = object
        self.location = location
        self.scope = scope
    }

    mutating func build(with compiler: inout SchemaCompiler) throws(SchemaError) -> [SchemaKeyword] {
        try buildReferences(with: &compiler)
        if scope.vocabularies.contains(.validation) { try buildAssertions(with: &compiler) }
        if scope.vocabularies.contains(.applicator) { try buildApplicators(with: &compiler) }
        if scope.vocabularies.contains(.unevaluated) {
            if let schema = try subschema("unevaluatedItems", &compiler) { keywords.append(.unevaluatedItems(schema)) }
            if let schema = try subschema("unevaluatedProperties", &compiler) { keywords.append(.unevaluatedProperties(schema)) }
        }
        return keywords
    }

    private mutating func buildReferences(with compiler: inout SchemaCompiler) throws(SchemaError) {
        if let reference = try string("$ref") {
            let target = try compiler.locate(reference, against: scope.base, from: pointer("$ref"))
            keywords.append(.ref(try compiler.compile(target)))
        }
        if let reference = try string("$dynamicRef") {
            let uri = scope.base.resolving(reference)
            let target = try compiler.locate(reference, against: scope.base, from: pointer("$dynamicRef"))
            // Only a target that declares the same `$dynamicAnchor` opts in to dynamic lookup.
            var anchor: String?
            if let fragment = uri.fragment, !fragment.isEmpty, !fragment.hasPrefix("/"),
                case .string(let declared)? = compiler.value(at: target)?["$dynamicAnchor"], declared == fragment
            {
                anchor = fragment
            }
            keywords.append(.dynamicRef(DynamicReference(target: try compiler.compile(target), anchor: anchor)))
        }
    }

    private mutating func buildAssertions(with compiler: inout SchemaCompiler) throws(SchemaError) {
        if let value = object["type"] { keywords.append(.type(try types(value))) }
        if let value = object["enum"] {
            guard case .array(let allowed) = value else { throw invalid("enum", "must be an array") }
            keywords.append(.enumeration(allowed))
        }
        if let value = object["const"] { keywords.append(.constant(value)) }
        if let value = try number("multipleOf") {
            guard (value.doubleValue ?? 0) > 0 else { throw invalid("multipleOf", "must be greater than 0") }
            keywords.append(.multipleOf(value))
        }
        if let value = try number("maximum") { keywords.append(.maximum(value)) }
        if let value = try number("exclusiveMaximum") { keywords.append(.exclusiveMaximum(value)) }
        if let value = try number("minimum") { keywords.append(.minimum(value)) }
        if let value = try number("exclusiveMinimum") { keywords.append(.exclusiveMinimum(value)) }
        if let value = try count("maxLength") { keywords.append(.maxLength(value)) }
        if let value = try count("minLength") { keywords.append(.minLength(value)) }
        if let value = try string("pattern") {
            keywords.append(.pattern(try compiler.pattern(value, at: pointer("pattern"))))
        }
        if let value = try count("maxItems") { keywords.append(.maxItems(value)) }
        if let value = try count("minItems") { keywords.append(.minItems(value)) }
        if let value = object["uniqueItems"] {
            guard case .bool(let unique) = value else { throw invalid("uniqueItems", "must be a boolean") }
            if unique { keywords.append(.uniqueItems) }
        }
        if let value = try count("maxProperties") { keywords.append(.maxProperties(value)) }
        if let value = try count("minProperties") { keywords.append(.minProperties(value)) }
        if let value = object["required"] { keywords.append(.required(try strings(value, "required"))) }
        if let value = object["dependentRequired"] {
            guard case .object(let members) = value else { throw invalid("dependentRequired", "must be an object") }
            var rules: [(property: String, requires: [String])] = []
            for (property, required) in members {
                rules.append((property, try strings(required, "dependentRequired")))
            }
            keywords.append(.dependentRequired(rules))
        }
    }

    private mutating func buildApplicators(with compiler: inout SchemaCompiler) throws(SchemaError) {
        // Members and items first, then in-place applicators: errors then follow the
        // instance's own fields before those a `$ref`/`allOf` adds.
        let prefix = try subschemas("prefixItems", &compiler)
        if let prefix { keywords.append(.prefixItems(prefix)) }
        if let value = object["items"] {
            if case .array = value { throw invalid("items", "must be a schema (use prefixItems for tuples)") }
            keywords.append(.items(try compile(["items"], &compiler), after: prefix?.count ?? 0))
        }
        if let schema = try subschema("contains", &compiler) {
            let minimum = try count("minContains") ?? 1
            keywords.append(.contains(schema, min: minimum, max: try count("maxContains")))
        }
        let properties = try subschemaMap("properties", &compiler)
        if let properties {
            keywords.append(.properties(Dictionary(properties.map { ($0.name, $0.schema) }, uniquingKeysWith: { first, _ in first })))
        }
        var patterns: [SchemaPattern] = []
        if let members = try subschemaMap("patternProperties", &compiler) {
            var compiledMembers: [(pattern: SchemaPattern, schema: Int)] = []
            for member in members {
                let pattern = try compiler.pattern(member.name, at: pointer("patternProperties").appending(member.name))
                compiledMembers.append((pattern, member.schema))
                patterns.append(pattern)
            }
            keywords.append(.patternProperties(compiledMembers))
        }
        if let schema = try subschema("additionalProperties", &compiler) {
            keywords.append(.additionalProperties(schema, named: Set(properties?.map(\.name) ?? []), patterns: patterns))
        }
        if let schema = try subschema("propertyNames", &compiler) { keywords.append(.propertyNames(schema)) }
        if let schemas = try subschemas("allOf", &compiler) { keywords.append(.allOf(schemas)) }
        if let schemas = try subschemas("anyOf", &compiler) { keywords.append(.anyOf(schemas)) }
        if let schemas = try subschemas("oneOf", &compiler) { keywords.append(.oneOf(schemas)) }
        if let schema = try subschema("not", &compiler) { keywords.append(.not(schema)) }
        if let condition = try subschema("if", &compiler) {
            let then = try subschema("then", &compiler)
            let otherwise = try subschema("else", &compiler)
            if then != nil || otherwise != nil {
                keywords.append(.conditional(if: condition, then: then, else: otherwise))
            } else {
                // `if` alone asserts nothing but still contributes annotations when it passes.
                keywords.append(.conditional(if: condition, then: nil, else: nil))
            }
        }
        if let schemas = try subschemaMap("dependentSchemas", &compiler) {
            keywords.append(.dependentSchemas(schemas.map { ($0.name, $0.schema) }))
        }
    }

    // MARK: - Reading keyword values

    private func pointer(_ keyword: String) -> JSONPointer {
        location.pointer.appending(keyword)
    }

    private func invalid(_ keyword: String, _ problem: String) -> SchemaError {
        SchemaError(message: "'\(keyword)' \(problem)", schemaPath: pointer(keyword))
    }

    private func compile(_ tokens: [String], _ compiler: inout SchemaCompiler) throws(SchemaError) -> Int {
        try compiler.compile(SchemaLocation(document: location.document, pointer: JSONPointer(tokens: location.pointer.tokens + tokens)))
    }

    private func subschema(_ keyword: String, _ compiler: inout SchemaCompiler) throws(SchemaError) -> Int? {
        guard object[keyword] != nil else { return nil }
        return try compile([keyword], &compiler)
    }

    private func subschemas(_ keyword: String, _ compiler: inout SchemaCompiler) throws(SchemaError) -> [Int]? {
        guard let value = object[keyword] else { return nil }
        guard case .array(let elements) = value, !elements.isEmpty else {
            throw invalid(keyword, "must be a non-empty array of schemas")
        }
        var result: [Int] = []
        for index in elements.indices { result.append(try compile([keyword, String(index)], &compiler)) }
        return result
    }

    private func subschemaMap(_ keyword: String, _ compiler: inout SchemaCompiler) throws(SchemaError) -> [(name: String, schema: Int)]? {
        guard let value = object[keyword] else { return nil }
        guard case .object(let members) = value else { throw invalid(keyword, "must be an object of schemas") }
        var result: [(name: String, schema: Int)] = []
        for name in members.keys { result.append((name, try compile([keyword, name], &compiler))) }
        return result
    }

    private func string(_ keyword: String) throws(SchemaError) -> String? {
        guard let value = object[keyword] else { return nil }
        guard case .string(let text) = value else { throw invalid(keyword, "must be a string") }
        return text
    }

    private func number(_ keyword: String) throws(SchemaError) -> JSONValue? {
        guard let value = object[keyword] else { return nil }
        guard value.isNumber else { throw invalid(keyword, "must be a number") }
        return value
    }

    private func count(_ keyword: String) throws(SchemaError) -> Int? {
        guard let value = object[keyword] else { return nil }
        guard let whole = value.integerValue, whole >= 0 else { throw invalid(keyword, "must be a non-negative integer") }
        return Int(clamping: whole)
    }

    private func strings(_ value: JSONValue, _ keyword: String) throws(SchemaError) -> [String] {
        guard case .array(let elements) = value else { throw invalid(keyword, "must be an array of strings") }
        var result: [String] = []
        for element in elements {
            guard case .string(let text) = element else { throw invalid(keyword, "must be an array of strings") }
            result.append(text)
        }
        return result
    }

    private func types(_ value: JSONValue) throws(SchemaError) -> JSONTypes {
        let names: [JSONValue]
        switch value {
        case .string: names = [value]
        case .array(let elements): names = elements
        default: throw invalid("type", "must be a type name or an array of type names")
        }
        var result: JSONTypes = []
        for name in names {
            guard case .string(let text) = name, let type = JSONTypes.names.first(where: { $0.0 == text })?.1 else {
                throw invalid("type", "names an unknown type \(name.serialized())")
            }
            result.insert(type)
        }
        return result
    }
}
