extension SchemaEvaluator {
    /// Keywords that apply subschemas to the same instance; their annotations count as the
    /// parent's when they pass.
    mutating func applyInPlace(_ keyword: SchemaKeyword, of node: SchemaNode, to instance: JSONValue, report: Bool, evaluated: inout EvaluatedParts?) -> Bool {
        switch keyword {
        case .allOf(let schemas):
            var valid = true
            for schema in schemas where !evaluate(schema, instance, report: report, evaluated: &evaluated) {
                valid = false
                if !report { return false }
            }
            return valid
        case .anyOf(let schemas):
            var matched = false
            for schema in schemas where evaluate(schema, instance, report: false, evaluated: &evaluated) {
                matched = true
                // Without annotations to collect, the first match decides.
                if evaluated == nil { break }
            }
            if !matched, report { reportNoAlternative("anyOf", schemas, of: node, instance) }
            return matched
        case .oneOf(let schemas):
            var matches: [Int] = []
            var matchedParts: EvaluatedParts?
            for (position, schema) in schemas.enumerated() {
                var parts: EvaluatedParts? = evaluated == nil ? nil : EvaluatedParts()
                guard evaluate(schema, instance, report: false, evaluated: &parts) else { continue }
                matches.append(position)
                matchedParts = parts
                if matches.count > 1, !report { return false }
            }
            if matches.count == 1 {
                if let matchedParts { evaluated?.merge(matchedParts) }
                return true
            }
            if report {
                if matches.isEmpty {
                    reportNoAlternative("oneOf", schemas, of: node, instance)
                } else {
                    fail("oneOf", schemaPath: node.pointer.appending("oneOf"), SchemaMessages.severalAlternatives(matches))
                }
            }
            return false
        case .not(let schema):
            var none: EvaluatedParts?
            guard evaluate(schema, instance, report: false, evaluated: &none) else { return true }
            if report { fail("not", schemaPath: node.pointer.appending("not"), SchemaMessages.notSchema) }
            return false
        case .conditional(let condition, let then, let otherwise):
            if then == nil, otherwise == nil, evaluated == nil { return true }
            if evaluate(condition, instance, report: false, evaluated: &evaluated) {
                guard let then else { return true }
                return evaluate(then, instance, report: report, evaluated: &evaluated)
            }
            guard let otherwise else { return true }
            return evaluate(otherwise, instance, report: report, evaluated: &evaluated)
        case .dependentSchemas(let rules):
            guard case .object(let object) = instance else { return true }
            var valid = true
            for rule in rules where object[rule.property] != nil {
                if !evaluate(rule.schema, instance, report: report, evaluated: &evaluated) {
                    valid = false
                    if !report { return false }
                }
            }
            return valid
        default:
            return true
        }
    }

    /// Reports an `anyOf`/`oneOf` that no alternative matched. When exactly one alternative
    /// is plausible, its own errors say more than a summary; otherwise one summary error.
    /// Most plausible: the value's type and its discriminating `const`/`enum` members (a
    /// `kind` field) match. Next: at least the type matches (a string outside an `enum`,
    /// beside an alternative for arrays).
    private mutating func reportNoAlternative(_ keyword: String, _ schemas: [Int], of node: SchemaNode, _ instance: JSONValue) {
        let branches = schemas.map { errorsOf($0, instance) }
        let here = depth
        func rejects(_ branch: Int, byValue: Bool) -> Bool {
            branches[branch].contains { error in
                let level = error.instancePath.tokens.count
                switch error.keyword {
                case "type", "false": return level == here
                case "const", "enum": return byValue && level <= here + 1
                default: return false
                }
            }
        }
        for byValue in [true, false] {
            let plausible = branches.indices.filter { !rejects($0, byValue: byValue) }
            if plausible.count == 1 {
                appendErrors(branches[plausible[0]])
                return
            }
            if plausible.count > 1 { break }
        }
        let reasons = branches.map { $0.first.map { "\($0.message) (at \($0.instancePath.tokens.isEmpty ? "/" : $0.instancePath.description))" } ?? "failed" }
        fail(keyword, schemaPath: node.pointer.appending(keyword), SchemaMessages.noAlternative(keyword, reasons: reasons))
    }

    /// Keywords that apply subschemas to array items.
    mutating func applyItems(_ keyword: SchemaKeyword, of node: SchemaNode, _ elements: [JSONValue], report: Bool, evaluated: inout EvaluatedParts?) -> Bool {
        switch keyword {
        case .prefixItems(let schemas):
            var valid = true
            for index in 0..<min(schemas.count, elements.count) {
                let name = "prefixItems"
                if !evaluateChild(schemas[index], elements[index], at: .index(index), report: report, keyword: name, falseMessage: SchemaMessages.unexpectedItem(index, by: name)) {
                    valid = false
                    if !report { return false }
                }
            }
            if valid || report, let prefix = evaluated?.itemPrefix {
                evaluated?.itemPrefix = max(prefix, min(schemas.count, elements.count))
            }
            return valid
        case .items(let schema, let after):
            var valid = true
            for index in elements.indices.dropFirst(after) {
                if !evaluateChild(schema, elements[index], at: .index(index), report: report, keyword: "items", falseMessage: SchemaMessages.unexpectedItem(index, by: "items")) {
                    valid = false
                    if !report { return false }
                }
            }
            if valid || report { evaluated?.allItems = true }
            return valid
        case .contains(let schema, let minimum, let maximum):
            var count = 0
            for index in elements.indices where matchesChild(schema, elements[index], at: .index(index)) {
                count += 1
                evaluated?.items.insert(index)
            }
            if count < minimum {
                if report { fail(minimum == 1 ? "contains" : "minContains", schemaPath: node.pointer.appending(minimum == 1 ? "contains" : "minContains"), SchemaMessages.contains(atLeast: true, minimum, actual: count)) }
                return false
            }
            if let maximum, count > maximum {
                if report { fail("maxContains", schemaPath: node.pointer.appending("maxContains"), SchemaMessages.contains(atLeast: false, maximum, actual: count)) }
                return false
            }
            return true
        case .unevaluatedItems(let schema):
            var valid = true
            for index in elements.indices where !(evaluated?.containsItem(index) ?? false) {
                if !evaluateChild(schema, elements[index], at: .index(index), report: report, keyword: "unevaluatedItems", falseMessage: SchemaMessages.unexpectedItem(index, by: "unevaluatedItems")) {
                    valid = false
                    if !report { return false }
                }
            }
            if valid { evaluated?.allItems = true }
            return valid
        default:
            return true
        }
    }

    /// Keywords that apply subschemas to object members.
    mutating func applyProperties(_ keyword: SchemaKeyword, of node: SchemaNode, _ object: JSONObject, report: Bool, evaluated: inout EvaluatedParts?) -> Bool {
        var valid = true
        switch keyword {
        case .properties(let schemas):
            for key in object.keys {
                guard let schema = schemas[key], let value = object[key] else { continue }
                if !evaluateChild(schema, value, at: .key(key), report: report, keyword: "properties", falseMessage: SchemaMessages.forbiddenProperty(key)) {
                    valid = false
                    if !report { return false }
                }
                evaluated?.properties.insert(key)
            }
        case .patternProperties(let members):
            for key in object.keys {
                guard let value = object[key] else { continue }
                for member in members where member.pattern.matches(key) {
                    if !evaluateChild(member.schema, value, at: .key(key), report: report, keyword: "patternProperties", falseMessage: SchemaMessages.forbiddenProperty(key)) {
                        valid = false
                        if !report { return false }
                    }
                    evaluated?.properties.insert(key)
                }
            }
        case .additionalProperties(let schema, let named, let patterns):
            for key in object.keys where !named.contains(key) && !patterns.contains(where: { $0.matches(key) }) {
                guard let value = object[key] else { continue }
                if !evaluateChild(schema, value, at: .key(key), report: report, keyword: "additionalProperties", falseMessage: SchemaMessages.unknownProperty(key, by: "additionalProperties")) {
                    valid = false
                    if !report { return false }
                }
            }
            if valid || report { evaluated?.allProperties = true }
        case .propertyNames(let schema):
            for key in object.keys where !matchesChild(schema, .string(key), at: .key(key)) {
                valid = false
                guard report else { return false }
                let reason = errorsOf(schema, .string(key), at: .key(key)).first.flatMap { $0.keyword == "false" ? nil : $0.message }
                fail("propertyNames", schemaPath: node.pointer.appending("propertyNames"), at: .key(key), SchemaMessages.invalidPropertyName(key, reason: reason))
            }
        case .unevaluatedProperties(let schema):
            for key in object.keys where !(evaluated?.containsProperty(key) ?? false) {
                guard let value = object[key] else { continue }
                if evaluateChild(schema, value, at: .key(key), report: report, keyword: "unevaluatedProperties", falseMessage: SchemaMessages.unknownProperty(key, by: "unevaluatedProperties")) {
                    evaluated?.properties.insert(key)
                } else {
                    valid = false
                    if !report { return false }
                }
            }
        default:
            break
        }
        return valid
    }
}
