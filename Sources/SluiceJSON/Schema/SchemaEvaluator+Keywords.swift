extension SchemaEvaluator {
    /// Applies one keyword; returns whether the instance passes it.
    mutating func apply(
        _ keyword: SchemaKeyword, of node: SchemaNode, to instance: JSONValue, report: Bool,
        evaluated: inout EvaluatedParts?
    ) -> Bool {
        switch keyword {
        case .ref(let target):
            return follow(target, from: node, keyword: "$ref", instance, report: report, evaluated: &evaluated)
        case .dynamicRef(let reference):
            return follow(dynamicTarget(reference), from: node, keyword: "$dynamicRef", instance, report: report, evaluated: &evaluated)
        case .allOf, .anyOf, .oneOf, .not, .conditional, .dependentSchemas:
            return applyInPlace(keyword, of: node, to: instance, report: report, evaluated: &evaluated)
        case .prefixItems, .items, .contains, .unevaluatedItems:
            guard case .array(let elements) = instance else { return true }
            return applyItems(keyword, of: node, elements, report: report, evaluated: &evaluated)
        case .properties, .patternProperties, .additionalProperties, .propertyNames, .unevaluatedProperties:
            guard case .object(let object) = instance else { return true }
            return applyProperties(keyword, of: node, object, report: report, evaluated: &evaluated)
        default:
            guard let message = assertionFailure(keyword, instance, describe: report) else { return true }
            if report {
                let here = node.pointer.appending(keyword.name)
                if case .required(let names) = keyword, case .object(let object) = instance {
                    for name in names where object[name] == nil {
                        fail("required", schemaPath: here, SchemaMessages.missingProperty(name))
                    }
                } else if case .dependentRequired(let rules) = keyword, case .object(let object) = instance {
                    for rule in rules where object[rule.property] != nil {
                        for name in rule.requires where object[name] == nil {
                            fail("dependentRequired", schemaPath: here.appending(rule.property), SchemaMessages.dependentProperty(rule.property, requires: name))
                        }
                    }
                } else {
                    fail(keyword.name, schemaPath: here, message)
                }
            }
            return false
        }
    }

    /// The message for a failed assertion keyword (empty unless `describe`: building
    /// messages for `if` conditions that fail by design would cost more than checking), or
    /// nil when the instance passes. Assertions about one type pass any value of another.
    private func assertionFailure(_ keyword: SchemaKeyword, _ instance: JSONValue, describe: Bool) -> String? {
        func say(_ message: @autoclosure () -> String) -> String { describe ? message() : "" }
        switch keyword {
        case .type(let types):
            return types.contains(typeOf: instance) ? nil : say(SchemaMessages.type(expected: types, actual: instance))
        case .enumeration(let allowed):
            return allowed.contains(where: { SchemaEquality.same($0, instance) }) ? nil : say(SchemaMessages.enumeration(allowed, actual: instance))
        case .constant(let expected):
            return SchemaEquality.same(expected, instance) ? nil : say(SchemaMessages.constant(expected, actual: instance))
        case .multipleOf(let divisor):
            guard instance.isNumber, !SchemaNumbers.isMultiple(instance, of: divisor) else { return nil }
            return say(SchemaMessages.multipleOf(divisor, actual: instance))
        case .maximum(let limit):
            guard let order = SchemaNumbers.compare(instance, limit), order > 0 else { return nil }
            return say(SchemaMessages.bound("<=", limit, actual: instance))
        case .exclusiveMaximum(let limit):
            guard let order = SchemaNumbers.compare(instance, limit), order >= 0 else { return nil }
            return say(SchemaMessages.bound("<", limit, actual: instance))
        case .minimum(let limit):
            guard let order = SchemaNumbers.compare(instance, limit), order < 0 else { return nil }
            return say(SchemaMessages.bound(">=", limit, actual: instance))
        case .exclusiveMinimum(let limit):
            guard let order = SchemaNumbers.compare(instance, limit), order <= 0 else { return nil }
            return say(SchemaMessages.bound(">", limit, actual: instance))
        case .maxLength(let limit):
            guard case .string(let text) = instance else { return nil }
            let length = text.unicodeScalars.count
            return length > limit ? say(SchemaMessages.length(atLeast: false, limit, actual: length)) : nil
        case .minLength(let limit):
            guard case .string(let text) = instance else { return nil }
            let length = text.unicodeScalars.count
            return length < limit ? say(SchemaMessages.length(atLeast: true, limit, actual: length)) : nil
        case .pattern(let pattern):
            guard case .string(let text) = instance, !pattern.matches(text) else { return nil }
            return say(SchemaMessages.pattern(pattern.source, actual: text))
        case .maxItems(let limit):
            guard case .array(let elements) = instance, elements.count > limit else { return nil }
            return say(SchemaMessages.itemCount(atLeast: false, limit, actual: elements.count))
        case .minItems(let limit):
            guard case .array(let elements) = instance, elements.count < limit else { return nil }
            return say(SchemaMessages.itemCount(atLeast: true, limit, actual: elements.count))
        case .uniqueItems:
            guard case .array(let elements) = instance, let (first, second) = SchemaEquality.firstDuplicate(elements) else { return nil }
            return say(SchemaMessages.duplicateItems(first, second))
        case .maxProperties(let limit):
            guard case .object(let object) = instance, object.count > limit else { return nil }
            return say(SchemaMessages.propertyCount(atLeast: false, limit, actual: object.count))
        case .minProperties(let limit):
            guard case .object(let object) = instance, object.count < limit else { return nil }
            return say(SchemaMessages.propertyCount(atLeast: true, limit, actual: object.count))
        case .required(let names):
            guard case .object(let object) = instance, let missing = names.first(where: { object[$0] == nil }) else { return nil }
            return say(SchemaMessages.missingProperty(missing))
        case .dependentRequired(let rules):
            guard case .object(let object) = instance else { return nil }
            for rule in rules where object[rule.property] != nil {
                if let missing = rule.requires.first(where: { object[$0] == nil }) {
                    return say(SchemaMessages.dependentProperty(rule.property, requires: missing))
                }
            }
            return nil
        default:
            return nil
        }
    }
}
