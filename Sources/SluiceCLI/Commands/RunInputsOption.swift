import ArgumentParser
import Foundation
import SluiceEngine
import SluiceJSON
import SluicePlan

/// The inputs of `sluice run`: `--inputs FILE.json`, then each `--input name=value`, checked
/// against the plan's input schema before anything runs.
struct RunInputsOption {
    var pairs: [String]
    var file: String?

    /// The inputs with defaults applied; every problem is printed with the input's name, exit 2.
    ///
    /// Malformed `--input` values and schema problems (missing, unknown, out of range) are all
    /// reported together, so one attempt shows everything to fix.
    func resolve(for plan: Plan) throws -> JSONValue {
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
        do {
            let prepared = try RunInputs.prepare(.object(given), schema: plan.inputSchema)
            if problems.isEmpty { return prepared }
        } catch {
            let malformed = Set(problems.map(\.name))
            problems += error.errors.filter { !malformed.contains($0.name) }
        }
        for problem in problems { Terminal.error("error: \(problem)") }
        Terminal.error("see the plan's inputs with: sluice schema \(plan.name)")
        throw ExitCode(ExitStatus.invalid)
    }

    private func fileInputs() throws -> JSONObject {
        guard let file else { return JSONObject() }
        guard let data = FileManager.default.contents(atPath: file) else {
            Terminal.error("error: --inputs: cannot read '\(file)'")
            throw ExitCode(ExitStatus.invalid)
        }
        do {
            guard let object = try JSONParser.parse([UInt8](data), options: .strict).objectValue else {
                Terminal.error("error: --inputs: '\(file)' must hold a JSON object of inputs")
                throw ExitCode(ExitStatus.invalid)
            }
            return object
        } catch let error as JSONParseError {
            Terminal.error("\(file):\(error.location): error: \(error.message)")
            throw ExitCode(ExitStatus.invalid)
        }
    }
}
