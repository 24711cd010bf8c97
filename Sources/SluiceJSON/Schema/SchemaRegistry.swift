/// Schemas that `$ref` may reach by URI, besides the one being compiled.
///
/// The JSON Schema 2020-12 meta-schemas are always present, so `$schema` and `$ref` to
/// `https://json-schema.org/draft/2020-12/schema` resolve offline. Nothing is fetched.
///
/// ```swift
/// var registry = SchemaRegistry()
/// registry.add(try JSONParser.parse(addressText), uri: "https://example.com/address.json")
/// let schema = try JSONSchema(personSchema, registry: registry)
/// ```
public struct SchemaRegistry: Sendable {
    /// Documents by absolute URI without fragment.
    private(set) var documents: [String: JSONValue]

    public init() {
        documents = Self.metaschemas
    }

    /// Built once and shared (copy-on-write) by every registry.
    private static let metaschemas: [String: JSONValue] = Dictionary(
        Metaschemas.documents.map { ($0.uri, $0.schema) }, uniquingKeysWith: { first, _ in first })

    /// Makes `schema` reachable as `uri` (and by any `$id` it declares).
    ///
    /// Adding a second document with the same URI replaces the first.
    public mutating func add(_ schema: JSONValue, uri: String) {
        documents[URIReference(parsing: uri).withoutFragment.description] = schema
    }

    /// The document registered under `uri` (its fragment ignored), if any.
    public func document(for uri: String) -> JSONValue? {
        documents[URIReference(parsing: uri).withoutFragment.description]
    }
}
