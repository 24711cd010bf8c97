import Foundation
public import SluiceJSON

/// Loads plan files and runs every static check on them before anything executes.
///
/// ```swift
/// let plan = try PlanLoader().load(path: "plans/news_report.json")
/// ```
///
/// #### Errors
/// Throws ``PlanValidationError`` holding every problem found, in file order: JSON syntax,
/// schema violations, expressions and templates that do not compile or name something that
/// does not exist at that point, duplicate step ids, bad JSON Schemas, and `call` targets
/// that are missing or form a cycle.
public struct PlanLoader: Sendable {
    /// Plans are small; anything larger is surely a mistake.
    public static let maxPlanBytes = 4 << 20

    /// Where `call` steps look for the plans they name (besides the calling plan's own folder).
    public var catalog: PlanCatalog

    /// Plans this binary already validated: their byte-only checks are skipped (see
    /// ``PlanValidationCache``); nil checks every plan in full.
    public var validationCache: PlanValidationCache?

    public init(catalog: PlanCatalog = PlanCatalog(directories: []), validationCache: PlanValidationCache? = nil) {
        self.catalog = catalog
        self.validationCache = validationCache
    }

    /// Loads and validates the plan file at `path`.
    public func load(path: String) throws(PlanValidationError) -> Plan {
        let bytes: [UInt8]
        do {
            bytes = try PlanCatalog.readFile(path, limit: Self.maxPlanBytes)
        } catch {
            throw PlanValidationError(diagnostics: [
                PlanDiagnostic(code: .io, message: error.description, pointer: .root, location: nil, file: path)
            ])
        }
        return try load(bytes: bytes, path: path)
    }

    /// Loads and validates a plan from its bytes; `path` names it in diagnostics and locates `call` targets.
    public func load(bytes: [UInt8], path: String) throws(PlanValidationError) -> Plan {
        let document: JSONDocument
        do {
            var options = JSONParser.Options.strict
            options.maxBytes = Self.maxPlanBytes
            document = try JSONParser.parseDocument(bytes, options: options)
        } catch {
            throw PlanValidationError(diagnostics: [
                PlanDiagnostic(code: .syntax, message: error.message, pointer: .root, location: error.location, file: path)
            ])
        }
        let source = PlanSource(path: path, document: document, bytes: bytes)
        let validated = validationCache?.isValidated(path: path, bytes: bytes) ?? false
        var diagnostics: [PlanDiagnostic] = []
        if !validated {
            diagnostics = schemaDiagnostics(source)
            var inputs = InputSchemaChecker(source: source)
            inputs.check()
            diagnostics += inputs.diagnostics
        }
        let decoder = PlanDecoder(source: source, defersTemplates: validated)
        if let plan = decoder.decodePlan() {
            // A validated plan's checks that read other files (the plans its call steps name,
            // which may have changed) still run; without call steps they depend on its bytes only.
            if !validated || plan.allSteps.contains(where: { if case .call = $0.kind { true } else { false } }) {
                var checker = ReferenceChecker(plan: plan, calledPlanOutput: calledPlanOutput(besides: path)) { code, message, pointer, offset in
                    decoder.report(code, message, at: pointer, offset: offset)
                }
                checker.check()
                CallChecker(plan: plan, catalog: catalog) { code, message, pointer in
                    decoder.report(code, message, at: pointer, offset: nil)
                }.check()
            }
            diagnostics += decoder.diagnostics
            if diagnostics.isEmpty {
                if !validated { validationCache?.remember(path: path, bytes: bytes) }
                return plan
            }
        } else {
            diagnostics += decoder.diagnostics
        }
        throw PlanValidationError(diagnostics: Self.ordered(diagnostics))
    }

    /// The output type of a plan a `call` names, from its `output.schema` (read shallowly, like
    /// CallChecker: a broken callee is reported when it is validated itself); `dyn` when the
    /// plan is missing, has no output schema, or gives all its steps' outputs.
    private func calledPlanOutput(besides path: String) -> (String) -> CELType {
        let catalog = self.catalog
        return { name in
            guard let file = catalog.resolve(name, besides: path),
                let bytes = try? PlanCatalog.readFile(file, limit: Self.maxPlanBytes),
                let document = try? JSONParser.parse(bytes),
                let schema = document["output"]?["schema"]
            else { return .dyn }
            return CELType(jsonSchema: schema).closingDeclaredObjects
        }
    }

    /// Validates the document against `plan.schema.json`.
    private func schemaDiagnostics(_ source: PlanSource) -> [PlanDiagnostic] {
        PlanSchema.validator.validate(source.document.value).map { error in
            PlanDiagnostic(
                code: .schema,
                message: Self.message(for: error, in: source),
                pointer: error.instancePath,
                // A member that should not be there is shown at its key, where the typo is.
                location: error.keyword.hasSuffix("Properties")
                    ? source.document.keyLocation(of: error.instancePath) ?? source.location(of: error.instancePath)
                    : source.location(of: error.instancePath),
                file: source.path
            )
        }
    }

    /// `unknown field 'temprature' in an llm step — did you mean 'temperature'?`: said in
    /// the plan's terms, with the closest field the place allows.
    private static func unknownField(_ name: String, at pointer: JSONPointer, in source: PlanSource) -> String {
        let parent = JSONPointer(tokens: Array(pointer.tokens.dropLast()))
        let kind = source.document.value.value(at: parent)?["kind"]?.stringValue
        let isStep = parent.tokens.dropLast().last == "steps" && kind != nil
        let fields = PlanSchema.fields
        let candidates = isStep ? fields.candidates(forStepKind: kind) : fields.all
        let article = kind.map { $0 == "llm" || "aeiou".contains($0.prefix(1)) ? "an" : "a" } ?? "a"
        let place = isStep ? " in \(article) \(kind ?? "") step" : ""
        return "unknown field '\(name)'\(place)" + NameSuggestion.didYouMean(name, among: candidates)
    }

    /// Plan-language wording for schema errors whose generic text would puzzle an author.
    private static func message(for error: SchemaValidationError, in source: PlanSource) -> String {
        if error.keyword == "unevaluatedProperties" || error.keyword == "additionalProperties",
            let name = error.instancePath.tokens.last
        {
            return unknownField(name, at: error.instancePath, in: source)
        }
        if error.keyword == "enum", error.instancePath.tokens.last == "kind",
            let kind = source.document.value.value(at: error.instancePath)?.stringValue
        {
            return "unknown step kind \"\(kind)\" (kinds: \(Step.kindNames.joined(separator: ", ")))"
        }
        let definition = error.schemaPath.tokens.count >= 2 ? error.schemaPath.tokens[1] : ""
        let kind =
            switch definition {
            case "integerOrExpression": "an integer"
            case "numberOrExpression": "a number"
            default: ""
            }
        guard !kind.isEmpty, error.keyword == "pattern" || error.keyword == "type" else { return error.message }
        let found = source.document.value.value(at: error.instancePath)
        let shown = found.map { $0.stringValue != nil ? $0.serialized() : $0.typeName } ?? "nothing"
        return "expected \(kind) or a \"${…}\" expression, got \(shown)"
    }

    /// File order, then message, with exact repeats removed.
    ///
    /// Where a JSON Schema inside the plan does not compile, that precise error replaces the
    /// metaschema's generic complaint about the same node; so does a setting's range error
    /// (from the kind's declaration) the schema's `minimum` complaint.
    static func ordered(_ diagnostics: [PlanDiagnostic]) -> [PlanDiagnostic] {
        let compiled = Set(
            diagnostics.filter { $0.code == .inputSchema || $0.code == .outputSchema || $0.code == .range }.map(\.pointer))
        var seen = Set<PlanDiagnostic>()
        return diagnostics.filter {
            !($0.code == .schema && compiled.contains($0.pointer)) && seen.insert($0).inserted
        }.sorted {
            let a = $0.location.map { ($0.line, $0.column) } ?? (0, 0)
            let b = $1.location.map { ($0.line, $0.column) } ?? (0, 0)
            return a != b ? a < b : $0.message < $1.message
        }
    }
}
