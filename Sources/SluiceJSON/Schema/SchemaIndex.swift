/// A place in one of the schema documents being compiled.
struct SchemaLocation: Hashable, Sendable {
    var document: Int
    var pointer: JSONPointer
}

/// The vocabularies whose keywords a schema resource uses, from its `$schema`'s `$vocabulary`.
/// Core keywords (`$ref`, `$defs`, …) are always on; meta-data and content only annotate.
struct Vocabularies: OptionSet, Hashable, Sendable {
    let rawValue: UInt8
    static let applicator = Vocabularies(rawValue: 1 << 0)
    static let unevaluated = Vocabularies(rawValue: 1 << 1)
    static let validation = Vocabularies(rawValue: 1 << 2)
    static let all: Vocabularies = [.applicator, .unevaluated, .validation]

    /// Known vocabulary URIs; the ones that only annotate map to no keywords we check.
    static let known: [String: Vocabularies] = {
        let base = "https://json-schema.org/draft/2020-12/vocab/"
        return [
            base + "core": [], base + "applicator": .applicator, base + "unevaluated": .unevaluated,
            base + "validation": .validation, base + "meta-data": [], base + "format-annotation": [],
            base + "format-assertion": [], base + "content": [],
        ]
    }()
}

/// What every location inherits from the schema around it.
struct LocationScope: Sendable {
    /// The base URI that relative references there resolve against.
    var base: URIReference
    /// The schema resource the location belongs to (an index into `SchemaIndex.resourceURIs`).
    var resource: Int
    var vocabularies: Vocabularies
}

/// Identifies every schema resource (`$id`), anchor (`$anchor`, `$dynamicAnchor`) and
/// location in the documents, so that references can be resolved to a location.
///
/// Registry documents are indexed only when a reference first needs them.
struct SchemaIndex {
    private(set) var documents: [JSONValue] = []
    private(set) var documentURIs: [URIReference] = []
    private(set) var resourceURIs: [URIReference] = []
    private var resourceIDs: [URIReference: Int] = [:]
    private var resourceRoots: [URIReference: SchemaLocation] = [:]
    private var anchors: [URIReference: SchemaLocation] = [:]
    /// Per resource: its `$dynamicAnchor` names and where they are.
    private(set) var dynamicAnchors: [Int: [String: SchemaLocation]] = [:]
    private var scopes: [SchemaLocation: LocationScope] = [:]
    private var unindexed: [String: JSONValue]

    init(registry: SchemaRegistry) {
        unindexed = registry.documents
    }

    /// Indexes `schema` as a new document retrieved from `uri`; returns its number.
    mutating func addDocument(_ schema: JSONValue, uri: URIReference) throws(SchemaError) -> Int {
        let number = documents.count
        documents.append(schema)
        documentURIs.append(uri)
        unindexed[uri.description] = nil
        let root = SchemaLocation(document: number, pointer: .root)
        let resource = registerResource(uri, at: root)
        try walk(schema, at: root, scope: LocationScope(base: uri, resource: resource, vocabularies: .all))
        return number
    }

    func value(at location: SchemaLocation) -> JSONValue? {
        documents[location.document].value(at: location.pointer)
    }

    /// The scope of `location`; a location no walk reached (inside an unknown keyword) takes
    /// the scope of its nearest indexed ancestor and is indexed from there.
    mutating func scope(of location: SchemaLocation) throws(SchemaError) -> LocationScope {
        if let scope = scopes[location] { return scope }
        var ancestor = location.pointer.tokens
        var inherited: LocationScope?
        while inherited == nil, !ancestor.isEmpty {
            ancestor.removeLast()
            inherited = scopes[SchemaLocation(document: location.document, pointer: JSONPointer(tokens: ancestor))]
        }
        guard let inherited, let value = value(at: location) else {
            throw SchemaError(message: "no schema at \(location.pointer)", schemaPath: location.pointer)
        }
        try walk(value, at: location, scope: inherited)
        return scopes[location] ?? inherited
    }

    /// The location a reference resolves to: a resource, a JSON pointer inside one, or an anchor.
    /// - Parameter written: the reference as the schema spells it, for error messages.
    mutating func locate(_ uri: URIReference, written: String? = nil, from source: JSONPointer) throws(SchemaError) -> SchemaLocation {
        let shown = written ?? uri.description
        let resourceURI = uri.withoutFragment
        try loadIfNeeded(resourceURI)
        let fragment = URIReference.percentDecoded(uri.fragment ?? "")
        if fragment.isEmpty || fragment.hasPrefix("/") {
            guard let root = resourceRoots[resourceURI] else {
                throw SchemaError(message: "cannot resolve reference '\(shown)': no schema has the URI '\(resourceURI)'", schemaPath: source)
            }
            let tokens = fragment.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map {
                $0.contains("~") ? String($0.replacing("~1", with: "/").replacing("~0", with: "~")) : String($0)
            }
            let target = SchemaLocation(document: root.document, pointer: JSONPointer(tokens: root.pointer.tokens + tokens))
            guard value(at: target) != nil else {
                throw SchemaError(message: "cannot resolve reference '\(shown)': nothing at that pointer", schemaPath: source)
            }
            return target
        }
        guard let target = anchors[resourceURI.withFragment(fragment)] else {
            throw SchemaError(message: "cannot resolve reference '\(shown)': no such anchor", schemaPath: source)
        }
        return target
    }

    /// The resource number of a resource URI, if that resource is known.
    func resource(named uri: URIReference) -> Int? {
        resourceIDs[uri.withoutFragment]
    }

    private mutating func loadIfNeeded(_ resourceURI: URIReference) throws(SchemaError) {
        guard resourceRoots[resourceURI] == nil else { return }
        if let document = unindexed[resourceURI.description] {
            _ = try addDocument(document, uri: resourceURI)
            return
        }
        // The resource may be embedded (by `$id`) in a registered document with another URI.
        while resourceRoots[resourceURI] == nil, let (uri, document) = unindexed.first {
            _ = try addDocument(document, uri: URIReference(parsing: uri))
        }
    }

    private mutating func registerResource(_ uri: URIReference, at location: SchemaLocation) -> Int {
        if let existing = resourceIDs[uri] { return existing }
        let id = resourceURIs.count
        resourceURIs.append(uri)
        resourceIDs[uri] = id
        resourceRoots[uri] = location
        return id
    }

    /// Records the scope of every schema under `value`, following only keywords that hold schemas.
    private mutating func walk(_ value: JSONValue, at location: SchemaLocation, scope inherited: LocationScope) throws(SchemaError) {
        guard case .object(let object) = value else {
            scopes[location] = inherited
            return
        }
        var scope = inherited
        if case .string(let id) = object["$id"] {
            let uri = scope.base.resolving(id).withoutFragment
            scope.base = uri
            scope.resource = registerResource(uri, at: location)
        }
        if case .string(let metaschema) = object["$schema"] {
            scope.vocabularies = try vocabularies(of: scope.base.resolving(metaschema), from: location.pointer)
        }
        scopes[location] = scope
        if case .string(let anchor) = object["$anchor"] {
            anchors[scope.base.withFragment(anchor)] = location
        }
        if case .string(let anchor) = object["$dynamicAnchor"] {
            anchors[scope.base.withFragment(anchor)] = location
            dynamicAnchors[scope.resource, default: [:]][anchor] = location
        }
        for (key, child) in object {
            let childPointer = location.pointer.appending(key)
            switch (SchemaKeywordShape.of(key), child) {
            case (.schema, _):
                try walk(child, at: SchemaLocation(document: location.document, pointer: childPointer), scope: scope)
            case (.schemaArray, .array(let elements)):
                for (index, element) in elements.enumerated() {
                    let pointer = childPointer.appending(index: index)
                    try walk(element, at: SchemaLocation(document: location.document, pointer: pointer), scope: scope)
                }
            case (.schemaMap, .object(let members)):
                for (name, element) in members {
                    let pointer = childPointer.appending(name)
                    try walk(element, at: SchemaLocation(document: location.document, pointer: pointer), scope: scope)
                }
            default:
                break
            }
        }
    }

    /// The vocabularies a meta-schema declares; all of them when it declares none.
    private mutating func vocabularies(of metaschema: URIReference, from source: JSONPointer) throws(SchemaError) -> Vocabularies {
        let location: SchemaLocation
        do {
            location = try locate(metaschema.withoutFragment, from: source)
        } catch {
            // An unknown dialect (e.g. an older draft's URI) is read as 2020-12.
            return .all
        }
        guard case .object(let declared)? = value(at: location)?["$vocabulary"] else { return .all }
        var result: Vocabularies = []
        for (uri, required) in declared {
            if let vocabulary = Vocabularies.known[uri] {
                result.formUnion(vocabulary)
            } else if required == true {
                throw SchemaError(
                    message: "meta-schema '\(metaschema)' requires the unsupported vocabulary '\(uri)'",
                    schemaPath: source.appending("$schema"))
            }
        }
        return result
    }
}

/// How a keyword holds subschemas, for walking a schema without compiling it.
enum SchemaKeywordShape {
    case schema, schemaArray, schemaMap, other

    static func of(_ keyword: String) -> SchemaKeywordShape {
        switch keyword {
        case "items", "contains", "additionalProperties", "propertyNames", "if", "then", "else", "not",
            "unevaluatedItems", "unevaluatedProperties", "contentSchema":
            .schema
        case "prefixItems", "allOf", "anyOf", "oneOf":
            .schemaArray
        case "$defs", "definitions", "properties", "patternProperties", "dependentSchemas":
            .schemaMap
        default:
            .other
        }
    }
}
