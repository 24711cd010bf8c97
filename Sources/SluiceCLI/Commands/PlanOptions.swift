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

    /// Loads PLAN (a path or a plan name); with `validationCache`, an unchanged plan this binary
    /// validated before skips its byte-only checks (see ``PlanValidationCache``).
    ///
    /// - Throws: ``CLIError`` (exit 2) naming the folders searched, or with every problem of
    ///   the plan as `FILE:LINE:COL: error: …` and their count.
    func loadPlan(_ reference: String, validationCache: PlanValidationCache? = nil) throws(CLIError) -> Plan {
        guard let path = catalog.resolve(reference) else {
            throw .invalid("no plan '\(reference)': not a file, and not a plan name in \(catalog.directories.joined(separator: ", "))")
        }
        do {
            return try PlanLoader(catalog: catalog, validationCache: validationCache).load(path: path)
        } catch {
            let count = error.diagnostics.count
            throw CLIError(lines: [error.description, "\(PlanDiagnostic.displayable(path)): \(count) problem\(count == 1 ? "" : "s")"], exitCode: ExitStatus.invalid)
        }
    }

    /// The `sluice schema` command that shows `reference`'s inputs: the plan as the user named
    /// it (a path or a name) with the `--plans` folder it was found in, quoted for a shell.
    func schemaCommand(for reference: String) -> String {
        var words = ["sluice", "schema", ShellWord.quoted(reference)]
        if let plans { words += ["--plans", ShellWord.quoted(plans)] }
        return words.joined(separator: " ")
    }
}

/// A word a shell reads back as it is: bare when it is made of safe characters, else in
/// single quotes.
enum ShellWord {
    static func quoted(_ word: String) -> String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%")
        if !word.isEmpty, word.allSatisfy(safe.contains) { return word }
        return "'" + word.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
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
