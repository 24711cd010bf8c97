import Foundation
import SluiceEngine
import SluiceJSON
import SluicePlan

/// `sluice run --output FILE`: the report as Markdown when FILE ends in `.md`, else the result
/// (or what a failed run had done) as JSON.
///
/// A `.md` destination asks for a report, which a result holds when it is a string or has a
/// string `report_content`. A plan whose result cannot be one is refused before anything runs
/// (exit 2), naming its output fields and suggesting a `.json` file; a result that turns out
/// not to be one (an expression the plan does not declare) writes nothing and fails (exit 1).
/// Nothing is ever said to be written that was not.
enum ReportOutput {
    /// What a plan's result is, as far as can be told before running it.
    enum Shape: Equatable {
        /// A string, or an object with `report_content`.
        case report
        /// Not a report: an object with these fields and no `report_content`, or (nil) not an object.
        case fields([String]?)
        /// Only known once it has run (an expression with no output schema saying more).
        case unknown
    }

    static func isMarkdown(_ path: String) -> Bool {
        path.lowercased().hasSuffix(".md")
    }

    /// Refuses a `.md` destination for a plan whose result is never a report.
    ///
    /// - Throws: ``CLIError`` (exit 2) naming the plan's output fields and the `.json` to use.
    static func check(_ plan: Plan, destination: String) throws(CLIError) {
        guard isMarkdown(destination), case .fields(let fields) = shape(of: plan) else { return }
        let what = fields.map { "has no report_content (its fields: \($0.joined(separator: ", ")))" } ?? "is neither text nor an object with report_content"
        throw .invalid(
            "--output \(destination): a .md file takes a report, but the result of plan '\(plan.name)' \(what)",
            notes: ["write the result as JSON instead: --output \(jsonAlternative(to: destination))"])
    }

    /// The shape of `plan`'s result: from its `output` value, else its output schema; without an
    /// `output`, the result is an object of every top-level step's output.
    static func shape(of plan: Plan) -> Shape {
        guard let output = plan.output else { return .fields(plan.steps.map(\.id)) }
        switch output.value {
        case .template: return .report
        case .literal(let value): return shape(of: value)
        case .object(let members):
            return members.contains { $0.key == "report_content" } ? .report : .fields(members.map(\.key))
        case .array: return .fields(nil)
        case .expression: return output.schema.map(shape(ofSchema:)) ?? .unknown
        }
    }

    private static func shape(of value: JSONValue) -> Shape {
        if value.stringValue != nil { return .report }
        guard let object = value.objectValue else { return .fields(nil) }
        return object["report_content"]?.stringValue != nil ? .report : .fields(object.members.map(\.key))
    }

    private static func shape(ofSchema schema: JSONValue) -> Shape {
        let types = schema["type"]?.stringValue.map { [$0] } ?? schema["type"]?.arrayValue?.compactMap(\.stringValue)
        if types?.contains("string") == true { return .report }
        if let types, !types.contains("object") { return .fields(nil) }
        guard let properties = schema["properties"]?.objectValue else { return .unknown }
        if properties["report_content"] != nil { return .report }
        // An object typed or closed is taken at its word; an untyped schema with properties
        // might describe something else, which only the run can tell.
        let closed = schema["additionalProperties"] == false || schema["unevaluatedProperties"] == false
        return closed || types == ["object"] ? .fields(properties.members.map(\.key)) : .unknown
    }

    /// `report.md` → `report.json`.
    static func jsonAlternative(to path: String) -> String {
        String(path.dropLast(3)) + ".json"
    }

    /// Writes the report (`.md`) or the result as JSON; a failed run's JSON is what it had.
    ///
    /// - Returns: what was written: `report` or `result`.
    /// - Throws: ``CLIError``: a run that ended without a report writes nothing to a `.md` file
    ///   (exit 1 when it completed, else the run's own exit); a file that cannot be written (exit 1).
    static func write(_ outcome: RunOutcome, to path: String) throws(CLIError) -> String {
        let text: String
        if isMarkdown(path) {
            guard let report = outcome.report else {
                guard outcome.status == .completed else {
                    throw CLIError(
                        lines: ["note: nothing was written to \(path): the run \(outcome.status.rawValue) before producing a report"],
                        exitCode: outcome.exitCode)
                }
                let fields = outcome.result?.objectValue.map { $0.members.map(\.key).joined(separator: ", ") }
                throw .failed(
                    "nothing was written to \(path): the result has no report_content"
                        + (fields.map { " (its fields: \($0))" } ?? " (it is \(outcome.result?.typeName ?? "empty"))")
                        + "; run again with --output \(jsonAlternative(to: path)) to keep it")
            }
            text = report
        } else if let result = outcome.result {
            text = result.serialized(pretty: true) + "\n"
        } else {
            let partial: JSONValue = [
                "status": .string(outcome.status.rawValue),
                "error": outcome.failure.map { .string($0.message) } ?? .null,
                "partial": .object(outcome.partial),
            ]
            text = partial.serialized(pretty: true) + "\n"
        }
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        } catch {
            throw .failed("cannot write \(path): \(error.localizedDescription)")
        }
        return isMarkdown(path) ? "report" : "result"
    }
}
