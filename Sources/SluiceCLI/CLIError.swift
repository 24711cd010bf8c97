import Foundation

/// Why a command stopped: the lines to print on stderr and the process exit code.
///
/// Every command throws this (never prints its own error and throws `ExitCode`), and
/// ``SluiceMain`` prints it once, so the wording and the exit codes live in one place:
/// 1 the run failed, 2 a bad invocation or an invalid plan, 130 cancelled.
///
/// ```swift
/// guard FileManager.default.fileExists(atPath: path) else {
///     throw CLIError.invalid("--inputs: cannot read '\(path)'")   // "error: --inputs: …", exit 2
/// }
/// ```
struct CLIError: Error, CustomStringConvertible {
    /// What stderr gets, a line each, printed as they are (each says `error:` already, or is a
    /// compiler-style `FILE:LINE:COL: error: …` diagnostic). Empty when everything was said
    /// already (a failed run's events).
    var lines: [String]
    var exitCode: Int32

    init(lines: [String], exitCode: Int32) {
        self.lines = lines
        self.exitCode = exitCode
    }

    /// A bad invocation, bad inputs or an invalid plan (exit 2): `error: MESSAGE`, then `notes`.
    static func invalid(_ message: String, notes: [String] = []) -> CLIError {
        CLIError(lines: ["error: " + message] + notes, exitCode: ExitStatus.invalid)
    }

    /// Something failed while or after running (exit 1): `error: MESSAGE`.
    static func failed(_ message: String) -> CLIError {
        CLIError(lines: ["error: " + message], exitCode: ExitStatus.failed)
    }

    /// An exit with nothing more to print: a run whose events said how it ended.
    static func exit(_ code: Int32) -> CLIError {
        CLIError(lines: [], exitCode: code)
    }

    var description: String { lines.joined(separator: "\n") }

    /// Writes the lines to stderr; for the top level, and for commands that go on after a
    /// failure (`validate` reports every plan).
    func report() {
        for line in lines { Terminal.error(line) }
    }
}
