/// A name a template looks up: the plan validator checks that it exists.
///
/// `{{steps.outline.output.title}}` gives the path `["steps", "outline", "output", "title"]`;
/// the implicit iterator `{{.}}` gives the empty path. Inside a section (`sectionDepth > 0`) a
/// name may also resolve against the section's element, so only names whose root is a known
/// context name (`inputs`, `steps`, `item`, `index`, `loop`) can be checked there.
public struct TemplateReference: Sendable, Hashable, CustomStringConvertible {
    /// The dotted name split at its dots; empty for `.`.
    public var path: [String]
    /// Characters from the start of the template to the tag's opening delimiter.
    public var offset: Int
    /// How many sections (`{{#…}}` or `{{^…}}`) enclose the tag.
    public var sectionDepth: Int
    /// Whether the tag opens a section or an inverted section rather than interpolating.
    public var isSection: Bool
    /// The names of the sections that enclose the tag, outermost first.
    public var enclosingSections: [String]

    public init(path: [String], offset: Int, sectionDepth: Int, isSection: Bool, enclosingSections: [String] = []) {
        self.path = path
        self.offset = offset
        self.sectionDepth = sectionDepth
        self.isSection = isSection
        self.enclosingSections = enclosingSections
    }

    /// The name as the template wrote it (`steps.outline.output`, or `.`).
    public var name: String { path.isEmpty ? "." : path.joined(separator: ".") }

    public var description: String { name }
}
