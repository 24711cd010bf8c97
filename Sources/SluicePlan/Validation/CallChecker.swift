import SluiceJSON

/// Checks that every `call` names a plan that exists, and that no chain of calls comes back
/// to a plan already on it.
///
/// Called plans are read shallowly (their JSON only, for their own `call` steps), so a
/// broken called plan is reported when it is itself validated, not here.
struct CallChecker {
    let plan: Plan
    let catalog: PlanCatalog
    let report: (PlanDiagnostic.Code, String, JSONPointer) -> Void

    func check() {
        for step in plan.allSteps {
            guard case .call(let call) = step.kind else { continue }
            let pointer = step.pointer.appending("plan")
            if call.plan == plan.name {
                report(.call, "plan '\(plan.name)' calls itself", pointer)
                continue
            }
            guard let file = catalog.resolve(call.plan, besides: plan.source.path) else {
                report(.call, "unknown plan '\(call.plan)' in call (no \(call.plan).json \(searched))", pointer)
                continue
            }
            if let cycle = findCycle(from: call.plan, file: file, chain: [plan.name, call.plan]) {
                report(.call, "plans call each other in a cycle: \(cycle.joined(separator: " → "))", pointer)
            }
        }
    }

    private var searched: String {
        var folders = [folder(of: plan.source.path)]
        for directory in catalog.directories where !folders.contains(directory) { folders.append(directory) }
        return "in " + folders.map { "'\($0)'" }.joined(separator: ", ")
    }

    private func folder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return String(path[..<slash])
    }

    /// Depth-first over call edges; returns the chain that comes back to `plan`, if any.
    private func findCycle(from name: String, file: String, chain: [String], depth: Int = 0) -> [String]? {
        guard depth < 32 else { return nil }
        for callee in calledPlans(inFile: file) {
            if callee == plan.name { return chain + [callee] }
            if chain.contains(callee) { continue }  // a cycle not through this plan: reported there
            guard let calleeFile = catalog.resolve(callee, besides: file) else { continue }
            if let cycle = findCycle(from: callee, file: calleeFile, chain: chain + [callee], depth: depth + 1) {
                return cycle
            }
        }
        return nil
    }

    /// The plan names a plan file's `call` steps name, at any depth.
    private func calledPlans(inFile file: String) -> [String] {
        guard let bytes = try? PlanCatalog.readFile(file, limit: PlanLoader.maxPlanBytes),
            let document = try? JSONParser.parse(bytes)
        else { return [] }  // unreadable callees are reported when they are validated themselves
        return Self.calls(in: document["steps"])
    }

    private static func calls(in steps: JSONValue?) -> [String] {
        (steps?.arrayValue ?? []).flatMap { step -> [String] in
            let own = step["kind"]?.stringValue == "call" ? [step["plan"]?.stringValue].compactMap { $0 } : []
            return own + calls(in: step["steps"])
        }
    }
}
