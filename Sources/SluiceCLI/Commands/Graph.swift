import ArgumentParser
import SluicePlan

/// `sluice graph PLAN`: the plan as a Mermaid flowchart.
struct Graph: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph", abstract: "Print a plan's steps as a Mermaid flowchart."
    )

    @Argument(help: "A plan file or plan name.")
    var plan: String

    @OptionGroup var directory: PlanDirectoryOptions

    func run() throws {
        let loaded = try directory.loadPlan(plan)
        Terminal.print(MermaidGraph(plan: loaded).text, terminator: "")
    }
}
