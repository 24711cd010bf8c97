import SluiceJSON
import SluicePlan
import Testing

/// The step kind registry is the one place a kind is declared; `schemas/plan.schema.json` (for
/// editors, and the structural check) must say the same of every kind: its name, its fields,
/// which are required, how each is written and its bounds.
@Suite struct StepKindRegistryTests {
    static let schema: JSONValue = (try? JSONParser.parse(PlanSchema.text)) ?? .null
    static let definitions = schema["$defs"]?.objectValue ?? JSONObject()

    @Test func theSchemaNamesTheDeclaredKindsInOrder() {
        let names = (Self.definitions["stepKind"]?["enum"]?.arrayValue ?? []).compactMap(\.stringValue)
        #expect(names == StepKinds.all.map { $0.name })
        #expect(Step.kindNames == names)
    }

    @Test func theSchemaDeclaresTheCommonSettings() throws {
        let properties = try #require(Self.definitions["stepCommon"]?["properties"]?.objectValue)
        #expect(Set(properties.keys) == Set(Step.commonSettings.map(\.name)))
        for setting in Step.commonSettings {
            let property = try #require(properties[setting.name])
            #expect(Self.form(of: property) == setting.form, "stepCommon.\(setting.name)")
            #expect(Self.bounds(of: property) == setting.bounds, "stepCommon.\(setting.name)")
        }
    }

    @Test(arguments: StepKinds.all.map { $0.name })
    func theSchemaDeclaresEachKindsSettings(kind: String) throws {
        let declaration = try #require(StepKinds.named(kind))
        let definition = try #require(Self.definitions[kind + "Step"], "no $defs/\(kind)Step")
        let properties = definition["properties"]?.objectValue ?? JSONObject()
        #expect(Set(properties.keys) == Set(declaration.settings.map(\.name)))
        let required = Set((definition["required"]?.arrayValue ?? []).compactMap(\.stringValue))
        #expect(required == Set(declaration.settings.filter(\.isRequired).map(\.name)))
        for setting in declaration.settings {
            let property = try #require(properties[setting.name], "\(kind).\(setting.name)")
            #expect(Self.form(of: property) == setting.form, "\(kind).\(setting.name)")
            #expect(Self.bounds(of: property) == setting.bounds, "\(kind).\(setting.name)")
        }
    }

    /// How the schema says a property is written: by the definition it refers to, or, for
    /// list and object values, by the `"${…}"` pattern it allows beside them.
    static func form(of property: JSONValue) -> StepSetting.Form {
        switch property["$ref"]?.stringValue {
        case "#/$defs/template": return .template
        case "#/$defs/expression": return .expression
        case "#/$defs/numberOrExpression", "#/$defs/integerOrExpression": return .numberOrExpression
        case "#/$defs/value": return .value
        case "#/$defs/steps": return .body
        default: break
        }
        let alternatives = [property] + (property["anyOf"]?.arrayValue ?? [])
        return alternatives.contains { $0["pattern"] != nil } ? .value : .literal
    }

    /// The bounds the schema gives a number, on the property or the definition it refers to.
    static func bounds(of property: JSONValue) -> SettingBounds? {
        var target = property
        if let reference = property["$ref"]?.stringValue, reference.hasPrefix("#/$defs/"),
            let referred = definitions[String(reference.dropFirst("#/$defs/".count))]
        {
            target = referred
            for key in ["minimum", "exclusiveMinimum", "maximum"] { if let own = property[key] { target = .object(merging(target, key, own)) } }
        }
        if let low = target["exclusiveMinimum"]?.doubleValue { return .above(low) }
        switch (target["minimum"]?.doubleValue, target["maximum"]?.doubleValue) {
        case (let low?, let high?): return .within(low, high)
        case (let low?, nil): return .atLeast(low)
        case (nil, let high?): return SettingBounds(minimum: nil, exclusiveMinimum: false, maximum: high)
        case (nil, nil): return nil
        }
    }

    private static func merging(_ value: JSONValue, _ key: String, _ member: JSONValue) -> JSONObject {
        var object = value.objectValue ?? JSONObject()
        object[key] = member
        return object
    }
}
