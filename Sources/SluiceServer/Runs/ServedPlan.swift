public import SluiceJSON
public import SluicePlan

/// A plan the server offers: an MCP tool, a REST route, a target of the seed routes.
public struct ServedPlan: Sendable {
    public var name: String
    public var title: String?
    public var description: String?
    /// The JSON Schema of the inputs (MCP `inputSchema`, HTTP body validation).
    public var inputSchema: JSONValue
    /// The JSON Schema of the result (MCP `outputSchema`), when the plan declares one.
    public var outputSchema: JSONValue?
    /// The loaded plan the engine runs; nil for plans that exist only for a fake executor in tests.
    public var plan: Plan?

    public init(name: String, title: String? = nil, description: String? = nil, inputSchema: JSONValue, outputSchema: JSONValue? = nil, plan: Plan? = nil) {
        self.name = name
        self.title = title
        self.description = description
        self.inputSchema = inputSchema
        self.outputSchema = outputSchema
        self.plan = plan
    }

    /// Inputs that must compile as JSON Schemas (``Plan/schemaInputs``), checked with the others.
    public var schemaInputs: [String] { plan?.schemaInputs ?? [] }

    public init(_ plan: Plan) {
        self.init(
            name: plan.name, title: plan.title, description: plan.description,
            inputSchema: plan.inputSchema, outputSchema: plan.output?.schema, plan: plan
        )
    }
}

/// The plans a server offers, by name.
public struct PlanLibrary: Sendable {
    /// Sorted by name.
    public private(set) var plans: [ServedPlan]

    public init(plans: [ServedPlan]) {
        self.plans = plans.sorted { $0.name < $1.name }
    }

    public func plan(named name: String) -> ServedPlan? {
        plans.first { $0.name == name }
    }

    /// Loads every plan file of the catalog's folders; an invalid plan is left out and reported.
    ///
    /// - Returns: the library, and one message per plan that could not be loaded.
    public static func load(catalog: PlanCatalog) -> (library: PlanLibrary, problems: [String]) {
        let loader = PlanLoader(catalog: catalog)
        var plans: [ServedPlan] = []
        var problems: [String] = []
        var seen = Set<String>()
        for path in catalog.planFiles() {
            do {
                let plan = try loader.load(path: path)
                // The first folder wins, as it does for lookups by name.
                guard seen.insert(plan.name).inserted else { continue }
                plans.append(ServedPlan(plan))
            } catch {
                problems.append("\(path): \(error)")
            }
        }
        return (PlanLibrary(plans: plans), problems)
    }
}
