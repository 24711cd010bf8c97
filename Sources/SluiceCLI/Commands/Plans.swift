import ArgumentParser
import Foundation
import SluicePlan

/// `sluice plans`: what the plans folder offers.
struct Plans: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plans", abstract: "List the plans in the plans folder: name, title and description."
    )

    @OptionGroup var directory: PlanDirectoryOptions

    func run() throws {
        let catalog = directory.catalog
        let files = catalog.planFiles()
        guard !files.isEmpty else {
            throw CLIError.invalid("no plans in \(catalog.directories.joined(separator: ", "))")
        }
        let loader = PlanLoader(catalog: catalog)
        var rows: [(String, String)] = []
        for file in files {
            do {
                let plan = try loader.load(path: file)
                let about = [plan.title, plan.description].compactMap { $0 }.joined(separator: " — ")
                rows.append((plan.name, about))
            } catch {
                rows.append((file, "invalid: \(error.diagnostics.count) problem(s); run `sluice validate \(file)`"))
            }
        }
        let width = rows.map(\.0.count).max() ?? 0
        for (name, about) in rows {
            Terminal.print(name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + about)
        }
    }
}
