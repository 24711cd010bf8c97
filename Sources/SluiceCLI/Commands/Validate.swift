import ArgumentParser
import SluicePlan

/// `sluice validate PLAN...`: every static check, every problem reported, nothing run.
struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate", abstract: "Check plans without running them.",
        discussion: """
            Reports every problem as FILE:LINE:COL: error: MESSAGE (at /json/pointer).
            Exits 0 when all plans are valid, 2 otherwise.
            """
    )

    @Argument(help: "Plan files or plan names.")
    var plans: [String]

    @OptionGroup var directory: PlanDirectoryOptions

    func run() throws {
        var invalid = 0
        for reference in plans {
            do {
                let plan = try directory.loadPlan(reference)
                Terminal.print("\(PlanDiagnostic.displayable(plan.source.path)): ok (\(plan.name), \(plan.allSteps.count) steps)")
            } catch {
                error.report()
                invalid += 1
            }
        }
        if invalid > 0 { throw CLIError.exit(ExitStatus.invalid) }
    }
}
