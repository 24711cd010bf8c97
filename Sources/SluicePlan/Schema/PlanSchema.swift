/// The JSON Schema of plan files (`schemas/plan.schema.json`), for `sluice schema`, editors and
/// the plan loader's first check.
///
/// The text is compiled into the module by `scripts/embed-schema.sh` (`make schema`), so a
/// binary installed without the repository still has it; a test keeps it equal to the file.
public enum PlanSchema {
    /// The schema as JSON text, exactly as in `schemas/plan.schema.json`.
    public static var text: String { source }

    /// The schema's `$id`, the URL plans and tools use to name it.
    public static let id = "https://sluice.dev/schemas/plan.schema.json"
}
