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

    /// Read once from the embedded schema: `$defs/<kind>Step` and `$defs/stepCommon`.
    static let fields: Fields = {
        let schema = (try? JSONParser.parse(text)) ?? .null
        let definitions = schema["$defs"]?.objectValue
        func properties(_ value: JSONValue?) -> Set<String> {
            Set(value?["properties"]?.objectValue?.keys ?? [])
        }
        let common = properties(definitions?["stepCommon"])
        var perKind: [String: Set<String>] = [:]
        for kind in Step.kindNames {
            perKind[kind] = properties(definitions?[kind + "Step"]).union(common).union(["id", "kind"])
        }
        var all = properties(schema)
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
