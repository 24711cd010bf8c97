public import SluiceJSON

/// One problem found in a plan, with where it is.
///
/// Rendered the way compilers do, so editors and terminals can jump to it:
/// `plans/news_report.json:12:17: error: unknown step 'outlin' (at /steps/2/over)`.
public struct PlanDiagnostic: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem this is; stable across message wording changes.
    public var code: Code
    public var message: String
    /// Where in the plan document, as a JSON Pointer.
    public var pointer: JSONPointer
    /// Where in the file; `nil` when the plan did not come from a file with positions.
    public var location: SourceLocation?
    /// The file the plan came from, as the user named it.
    public var file: String

    public init(code: Code, message: String, pointer: JSONPointer, location: SourceLocation?, file: String) {
        self.code = code
        self.message = message
        self.pointer = pointer
        self.location = location
        self.file = file
    }

    /// The line printed for a person. Every part that can hold text from the plan (the
    /// message, the pointer's keys, the file name) has its control characters escaped, so one
    /// diagnostic is always exactly one line and cannot drive the terminal (see ``displayable(_:)``).
    public var description: String {
        let position = location.map { "\($0.line):\($0.column)" } ?? "1:1"
        let file = Self.displayable(file)
        let message = Self.displayable(message)
        // A file that is not even JSON has no node to point at.
        if code == .syntax || code == .io { return "\(file):\(position): error: \(message)" }
        let at = pointer.tokens.isEmpty ? "/" : Self.displayable(pointer.description)
        return "\(file):\(position): error: \(message) (at \(at))"
    }
}

extension PlanDiagnostic {
    /// A diagnostic's category. A struct over a private enum, so categories can be added
    /// without breaking code that switches on the public ones.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case io, syntax, schema, duplicateID, expression, template, reference, inputSchema,
                outputSchema, valueSyntax, call, limit, range
        }
        private let base: Base

        /// The file could not be read.
        public static let io = Code(base: .io)
        /// The file is not well-formed JSON (or repeats a key).
        public static let syntax = Code(base: .syntax)
        /// The plan breaks `schemas/plan.schema.json`.
        public static let schema = Code(base: .schema)
        /// Two steps share an id.
        public static let duplicateID = Code(base: .duplicateID)
        /// A CEL expression does not parse or type-check.
        public static let expression = Code(base: .expression)
        /// A Mustache template does not parse.
        public static let template = Code(base: .template)
        /// An expression or template names something that does not exist at that point.
        public static let reference = Code(base: .reference)
        /// The plan's `inputs` is not a usable JSON Schema.
        public static let inputSchema = Code(base: .inputSchema)
        /// An `output.schema` or a step's `schema` is not a usable JSON Schema.
        public static let outputSchema = Code(base: .outputSchema)
        /// A value string mixes `${…}` with other text.
        public static let valueSyntax = Code(base: .valueSyntax)
        /// A `call` names a plan that does not exist, or plans call each other in a cycle.
        public static let call = Code(base: .call)
        /// The plan is larger than a limit allows (see ``Plan/Limits``).
        public static let limit = Code(base: .limit)
        /// A literal setting is outside the range its kind declares (`concurrency` ≥ 1, a gate's
        /// `threshold` within its scale).
        public static let range = Code(base: .range)

        public var description: String { base.rawValue }
    }
}

/// Every diagnostic found in one plan; thrown when a plan is not valid.
public struct PlanValidationError: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [PlanDiagnostic]

    public init(diagnostics: [PlanDiagnostic]) {
        self.diagnostics = diagnostics
    }

    public var description: String {
        diagnostics.map(\.description).joined(separator: "\n")
    }
}
