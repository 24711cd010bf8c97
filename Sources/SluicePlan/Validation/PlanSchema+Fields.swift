import SluiceJSON

extension PlanSchema {
    /// The field names the plan language declares: per step kind (its own fields and those
    /// every step shares) and in all, so an unknown field can be answered with the one the
    /// author probably meant.
    struct Fields: Sendable {
        var perKind: [String: Set<String>]
        var all: Set<String>

        /// The fields a step of `kind` may have, or every declared field for an unknown kind.
        func candidates(forStepKind kind: String?) -> Set<String> {
            kind.flatMap { perKind[$0] } ?? all
        }
    }

    /// Per kind from the step kind registry (which PlanSchemaSyncTests holds equal to the
    /// schema's `$defs/<kind>Step`); in all, every property name the embedded schema declares.
    static let fields: Fields = {
        let common = Set(Step.commonSettings.map(\.name))
        var perKind: [String: Set<String>] = [:]
        for kind in StepKinds.all {
            perKind[kind.name] = Set(kind.settings.map(\.name)).union(common)
        }
        let schema = (try? JSONParser.parse(text)) ?? .null
        var all = Set(schema["properties"]?.objectValue?.keys ?? [])
        func collect(_ value: JSONValue) {
            switch value {
            case .object(let object):
                if let names = object["properties"]?.objectValue?.keys { all.formUnion(names) }
                for member in object.members { collect(member.value) }
            case .array(let items):
                items.forEach(collect)
            default:
                break
            }
        }
        collect(schema)
        return Fields(perKind: perKind, all: all)
    }()
}
