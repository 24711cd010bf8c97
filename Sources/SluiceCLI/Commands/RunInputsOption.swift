import Foundation
import SluiceEngine
import SluiceJSON
import SluicePlan

/// The inputs of `sluice run`: `--inputs FILE.json`, then each `--input name=value`, checked
/// against the plan's input schema before anything runs.
struct RunInputsOption {
    var pairs: [String]
    var file: String?

    /// The inputs with defaults applied.
    ///
    /// Malformed `--input` values and schema problems (missing, unknown, out of range) are all
    /// reported together, so one attempt shows everything to fix.
    ///
    /// - Parameter schemaCommand: the command that shows the plan's inputs, named at the end.
    /// - Throws: ``CLIError`` (exit 2) with every problem by input name.
    func resolve(for plan: Plan, schemaCommand: String) throws(CLIError) -> JSONValue {
        let parser = InputParser(schema: plan.inputSchema)
        var given = try fileInputs()
        var problems: [InputError] = []
        for pair in pairs {
            do {
                if case .object(let parsed) = try parser.parse([pair]) {
                    for (name, value) in parsed { given[name] = value }
                }
            } catch {
                problems += error.errors
            }
        }
        problems += likelyTypos(in: given, schema: plan.inputSchema)
        do {
            let prepared = try RunInputs.prepare(.object(given), schema: plan.inputSchema)
            if problems.isEmpty { return prepared }
        } catch {
            let malformed = Set(problems.map(\.name))
            problems += error.errors.filter { !malformed.contains($0.name) }
        }
        throw CLIError(
            lines: problems.map { "error: \($0)" } + ["see the plan's inputs with: \(schemaCommand)"], exitCode: ExitStatus.invalid)
    }

    /// Undeclared inputs that look like misspellings of declared ones. A plan whose schema
    /// allows other inputs would take them silently and run with the default of the one meant,
    /// so on the command line a near miss is an error even then.
    private func likelyTypos(in given: JSONObject, schema: JSONValue) -> [InputError] {
        let declared = schema["properties"]?.objectValue?.members.map(\.key) ?? []
        return given.members.compactMap { member in
            guard !declared.contains(member.key), NameSuggestion.closest(to: member.key, among: declared) != nil else { return nil }
            return RunInputs.unknownInput(member.key, schema: schema)
        }
    }

    private func fileInputs() throws(CLIError) -> JSONObject {
        guard let file else { return JSONObject() }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw .invalid("--inputs: cannot read '\(file)'")
        }
        let parsed: JSONValue
        do {
            parsed = try JSONParser.parse([UInt8](data), options: .strict)
        } catch {
            throw CLIError(lines: ["\(file):\(error.location): error: \(error.message)"], exitCode: ExitStatus.invalid)
        }
        guard let object = parsed.objectValue else {
            throw .invalid("--inputs: '\(file)' must hold a JSON object of inputs")
        }
        return object
    }
}
