/// A parsed JSON value together with where each of its nodes starts in the source.
///
/// Loaders use it to put a line:column on every error about a node (`plan.json:12:17: ...`).
public struct JSONDocument: Sendable {
    public var value: JSONValue
    /// The start of every node: the root, each array element and each object member's value.
    public var locations: [JSONPointer: SourceLocation]
    /// The start (opening quote) of each object member's key, by the member's pointer.
    public var keyLocations: [JSONPointer: SourceLocation]

    public init(
        value: JSONValue,
        locations: [JSONPointer: SourceLocation] = [:],
        keyLocations: [JSONPointer: SourceLocation] = [:]
    ) {
        self.value = value
        self.locations = locations
        self.keyLocations = keyLocations
    }

    /// Where the node at `pointer` starts; for a node that does not exist, where its nearest
    /// existing ancestor starts (so an error about a missing member points at its object).
    public func location(of pointer: JSONPointer) -> SourceLocation? {
        var current = pointer
        while true {
            if let location = locations[current] { return location }
            guard let parent = current.parent else { return nil }
            current = parent
        }
    }

    /// Where the key of the member `pointer` names starts; nil when it names no object member.
    public func keyLocation(of pointer: JSONPointer) -> SourceLocation? {
        keyLocations[pointer]
    }
}
