import Foundation

/// A plan written to a fresh temporary folder for one test, run by path (not by name), as a
/// plan author's own file is.
struct ScratchPlan {
    let folder: URL
    let path: String

    /// `due_diligence`: inputs `company` (required), `depth` (an integer) and `focus` (a list of
    /// strings); its result has no `report_content`.
    static let dueDiligence = """
        {
          "name": "due_diligence",
          "inputs": {
            "type": "object",
            "properties": {
              "company": {"type": "string", "minLength": 1},
              "depth": {"type": "integer", "minimum": 1, "maximum": 5, "default": 2},
              "focus": {"type": "array", "items": {"type": "string"}, "default": []}
            },
            "required": ["company"]
          },
          "steps": [
            {"id": "facts", "kind": "set", "value": {"company": "${inputs.company}", "depth": "${inputs.depth}"}}
          ],
          "output": {"value": {"company": "${steps.facts.output.company}", "depth": "${inputs.depth}"}}
        }
        """

    /// A plan whose result is an expression with no output schema: only running it tells
    /// that it is not a report.
    static let opaqueResult = """
        {
          "name": "opaque_result",
          "steps": [{"id": "facts", "kind": "set", "value": {"summary": "no report here"}}],
          "output": {"value": "${steps.facts.output}"}
        }
        """

    init(_ text: String, name: String) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-plan-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent("\(name).json")
        try Data(text.utf8).write(to: file)
        path = file.path
    }

    /// A path in the plan's folder (for outputs).
    func file(_ name: String) -> String {
        folder.appendingPathComponent(name).path
    }

    func remove() {
        try? FileManager.default.removeItem(at: folder)
    }
}
