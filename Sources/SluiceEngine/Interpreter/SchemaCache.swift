import SluiceJSON

/// The engine's view of the process's compiled schemas (``SluiceJSON/CompiledSchemas``): every
/// ``RunEngine`` shares ``SluiceJSON/CompiledSchemas/shared``.
typealias SchemaCache = CompiledSchemas

extension CompiledSchemas {
    /// The compiled `schema`; `step` names the step in the error when it cannot be compiled.
    func schema(_ schema: JSONValue, step: String?) throws(RunFailure) -> JSONSchema {
        do {
            return try compiled(schema)
        } catch {
            throw RunFailure(.stepFailed, "the output schema is unusable: \(error)", step: step)
        }
    }
}
