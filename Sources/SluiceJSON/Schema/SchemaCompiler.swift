/// Turns schema documents into a ``SchemaProgram``: resolves every `$ref` once, compiles
/// every `pattern` once, and checks keyword values, so validation does no lookups by name.
struct SchemaCompiler {
    private var index: SchemaIndex
    private var nodes: [SchemaNode] = []
    private var compiled: [SchemaLocation: Int] = [:]
    private var patterns: [String: SchemaPattern] = [:]

    /// The base URI of a root schema without an absolute `$id`.
    static let defaultRootURI = URIReference(parsing: "urn:sluice:schema-root")

    static func compile(_ schema: JSONValue, registry: SchemaRegistry) throws(SchemaError) -> SchemaProgram {
        var compiler = SchemaCompiler(index: SchemaIndex(registry: registry))
        let document = try compiler.index.addDocument(schema, uri: defaultRootURI)
        let root = try compiler.compile(SchemaLocation(document: document, pointer: .root))
        let dynamicAnchors = try compiler.compileDynamicAnchors()
        return SchemaProgram(nodes: compiler.nodes, root: root, dynamicAnchors: dynamicAnchors)
    }

    /// Compiles the `$dynamicAnchor`s of every resource a compiled node belongs to, until no
    /// new resource appears: only those resources can be in a dynamic scope at run time.
    private mutating func compileDynamicAnchors() throws(SchemaError) -> [Int: [String: Int]] {
        var table: [Int: [String: Int]] = [:]
        var done: Set<Int> = []
        var checked = 0
        while checked < nodes.count {
            let resource = nodes[checked].resource
            checked += 1
            guard done.insert(resource).inserted else { continue }
            for (name, location) in index.dynamicAnchors[resource] ?? [:] {
                table[resource, default: [:]][name] = try compile(location)
            }
        }
        return table
    }

    /// The node for the schema at `location`, compiling it on first use.
    mutating func compile(_ location: SchemaLocation) throws(SchemaError) -> Int {
        if let existing = compiled[location] { return existing }
        let scope = try index.scope(of: location)
        guard let value = index.value(at: location) else {
            throw SchemaError(message: "no schema at this location", schemaPath: location.pointer)
        }
        let number = nodes.count
        compiled[location] = number
        nodes.append(SchemaNode(pointer: location.pointer, resource: scope.resource, body: .always(true), collectsAnnotations: false))
        switch value {
        case .bool(let verdict):
            nodes[number].body = .always(verdict)
        case .object(let object):
            var builder = KeywordBuilder(object: object, location: location, scope: scope)
            let keywords = try builder.build(with: &self)
            nodes[number].body = .keywords(keywords)
            nodes[number].collectsAnnotations = keywords.contains {
                switch $0 {
                case .unevaluatedItems, .unevaluatedProperties: true
                default: false
                }
            }
        default:
            throw SchemaError(message: "a schema must be an object or a boolean, not \(value.typeName)", schemaPath: location.pointer)
        }
        return number
    }

    mutating func locate(_ reference: String, against base: URIReference, from source: JSONPointer) throws(SchemaError) -> SchemaLocation {
        try index.locate(base.resolving(reference), written: reference, from: source)
    }

    func value(at location: SchemaLocation) -> JSONValue? {
        index.value(at: location)
    }

    mutating func pattern(_ source: String, at pointer: JSONPointer) throws(SchemaError) -> SchemaPattern {
        if let cached = patterns[source] { return cached }
        do {
            let pattern = try SchemaPattern(source)
            patterns[source] = pattern
            return pattern
        } catch {
            throw SchemaError(message: SchemaPattern.message(for: error, source: source), schemaPath: pointer)
        }
    }
}
