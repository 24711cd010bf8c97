public import ArgumentParser
import Foundation

/// The `sluice` command line: runs, validates and serves JSON plans.
public struct SluiceCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "sluice",
        abstract: "Run LLM report agents written as JSON plans.",
        // Every subcommand names itself: a derived name costs String(describing:) and runtime
        // conformance lookups on each start (~3% of `sluice run`'s CPU before its first event).
        subcommands: [Run.self, Validate.self, Graph.self, Plans.self, Schema.self, Serve.self, Runs.self, Cache.self]
    )

    public init() {}
}

/// The entry point for the thin `sluice` executable.
///
/// The one place errors are printed: a ``CLIError`` thrown by a command prints its lines and
/// exits with its code; ArgumentParser's own errors (unknown options, `validate()` failures)
/// print its message and usage. Exit codes: 0 completed, 1 run failed, 2 bad invocation or
/// invalid plan, 130 cancelled. (ArgumentParser's own default for usage errors is 64.)
public enum SluiceMain {
    public static func run() async {
        do {
            var command = try SluiceCommand.parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as CLIError {
            error.report()
            exit(error.exitCode)
        } catch {
            let code = SluiceCommand.exitCode(for: error)
            if code == .validationFailure {
                FileHandle.standardError.write(Data((SluiceCommand.fullMessage(for: error) + "\n").utf8))
                SluiceCommand.exit(withError: ExitCode(ExitStatus.invalid))
            }
            SluiceCommand.exit(withError: error)
        }
    }
}

/// The process exit codes of PRODUCT.md.
enum ExitStatus {
    static let completed: Int32 = 0
    static let failed: Int32 = 1
    static let invalid: Int32 = 2
    static let cancelled: Int32 = 130
}
