import ArgumentParser
import SluiceJSON
import SluicePlan

/// `sluice schema [PLAN]`: the plan language's JSON Schema, or one plan's input and output schemas.
struct Schema: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema", abstract: "Print the JSON Schema of plans, or of one plan's inputs and output.",
        discussion: "Without PLAN, prints schemas/plan.schema.json (for editors). With PLAN, prints {\"inputs\": …, \"output\": …}."
    )

    @Argument(help: "A plan file or plan name.")
    var plan: String?

    @OptionGroup var directory: PlanDirectoryOptions

    func run() throws {
        guard let plan else {
            Terminal.print(PlanSchema.text, terminator: "")
            return
        }
        let loaded = try directory.loadPlan(plan)
        let schemas: JSONValue = [
            "inputs": loaded.inputSchema,
            "output": loaded.output?.schema ?? .null,
        ]
        Terminal.print(schemas.serialized(pretty: true))
    }
}
