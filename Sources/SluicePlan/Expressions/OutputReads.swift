public import SluiceJSON

/// Which parts of a value an expression reads: the whole of it, or some of its fields (each
/// read in turn as far as the tree says). A run converts only those parts to CEL.
///
/// `steps.outline.output.sections` reads the field `sections` of `outline`'s output;
/// `size(steps.sources.output)` reads all of `sources`' output.
public indirect enum OutputReads: Sendable, Hashable {
    case all
    case fields([String: OutputReads])

    /// Nothing read yet.
    public static let none = OutputReads.fields([:])

    /// Adds a read of `path`: the fields selected one below the other (empty for the whole).
    public mutating func add(_ path: ArraySlice<String>) {
        guard case .fields(var fields) = self else { return }
        guard let first = path.first else {
            self = .all
            return
        }
        var below = fields[first] ?? .none
        below.add(path.dropFirst())
        fields[first] = below
        self = .fields(fields)
    }
}

extension OutputReads {
    /// What `references` read of each step's output (`steps.<id>.output…`; `steps.<id>` alone
    /// reads all of it); nil when they use `steps` as a whole (`steps[name]`).
    public static func ofSteps(in references: [CELReference]) -> [String: OutputReads]? {
        var steps: [String: OutputReads] = [:]
        for reference in references where reference.path.first == "steps" {
            let path = reference.path
            guard path.count > 1 else { return nil }
            var reads = steps[path[1]] ?? .none
            if path.count > 2, path[2] == "output" { reads.add(path.dropFirst(3)) } else { reads = .all }
            steps[path[1]] = reads
        }
        return steps
    }

    /// What `references` read of the variable `name`; nil when they do not use it.
    public static func of(_ name: String, in references: [CELReference]) -> OutputReads? {
        var reads: OutputReads?
        for reference in references where reference.path.first == name {
            var read = reads ?? .none
            read.add(reference.path.dropFirst())
            reads = read
        }
        return reads
    }
}

extension CELValue {
    /// The CEL value of what `reads` names of `json` (typed as ``init(json:as:)`` types it):
    /// an object read field by field becomes a map of just those fields, where present; any
    /// other value read at all is converted whole.
    public init(json: JSONValue, as type: CELType, reading reads: OutputReads) {
        guard case .fields(let fields) = reads, case .object(let object) = json else {
            self = CELValue(json: json, as: type)
            return
        }
        var entries: [(CELValue, CELValue)] = []
        entries.reserveCapacity(fields.count)
        for (key, value) in object.members {
            guard let below = fields[key] else { continue }
            entries.append((.string(key), CELValue(json: value, as: type.fieldType(key), reading: below)))
        }
        self = .map(CELMap(entries))
    }
}

extension CELType {
    /// The type of field `name` of a JSON object of this type (`dyn` when unknown).
    func fieldType(_ name: String) -> CELType {
        switch self {
        case .object(let fields, _): fields[name] ?? .dyn
        case .map(_, let value): value
        default: .dyn
        }
    }
}
