import ArgumentParser
import Foundation
import SluicePlan

/// `--plans DIR`: where plan names are looked up.
struct PlanDirectoryOptions: ParsableArguments {
    @Option(name: .long, help: "Folder of plans to look names up in (default: $SLUICE_PLANS, else ./plans).")
    var plans: String?

    var catalog: PlanCatalog {
        PlanCatalog.standard(plansOption: plans, environment: ProcessInfo.processInfo.environment)
    }

    /// Loads PLAN (a path or a plan name), printing every problem to stderr on failure.
    func loadPlan(_ reference: String) throws -> Plan {
        guard let path = catalog.resolve(reference) else {
            Terminal.error("no plan '\(reference)': not a file, and not a plan name in \(catalog.directories.joined(separator: ", "))")
            throw ExitCode(ExitStatus.invalid)
        }
        do {
            return try PlanLoader(catalog: catalog).load(path: path)
        } catch {
            Terminal.error(error.description)
            Terminal.error("\(PlanDiagnostic.displayable(path)): \(error.diagnostics.count) problem\(error.diagnostics.count == 1 ? "" : "s")")
            throw ExitCode(ExitStatus.invalid)
        }
    }
}

/// Plain output helpers: results to stdout, diagnostics to stderr.
enum Terminal {
    static func print(_ text: String, terminator: String = "\n") {
        FileHandle.standardOutput.write(Data((text + terminator).utf8))
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}
