import SluiceJSON
import Synchronization

/// Compiled JSON Schemas (inputs, structured outputs, gate rubrics, plan outputs), shared by every run in
/// the process (``shared``): 10,000 runs of a plan compile its schemas once, not 10,000 times. The
/// server makes a ``RunEngine`` per run, so a cache per engine compiled every schema of every run
/// again (about 2% of the served CPU per news_report).
///
/// Keyed by the schema itself, so equal schemas in different plans share one entry and a step
/// id reused by a called plan never picks up the wrong schema. Bounded: past `limit` entries the
/// cache starts over (plans have few schemas; only a process serving many plans gets there).
final class SchemaCache: Sendable {
    /// The process's cache, used by every ``RunEngine``.
    static let shared = SchemaCache()

    private let entries = Mutex<[JSONValue: JSONSchema]>([:])
    let limit: Int

    init(limit: Int = 512) {
        self.limit = limit
    }

    /// The compiled `schema`; `step` names the step in the error when it cannot be compiled.
    func schema(_ schema: JSONValue, step: String?) throws(RunFailure) -> JSONSchema {
        do {
            return try compiled(schema)
        } catch {
            throw RunFailure(.stepFailed, "the output schema is unusable: \(error)", step: step)
        }
    }

    /// The compiled `schema`, compiling it on first use.
    func compiled(_ schema: JSONValue) throws(SchemaError) -> JSONSchema {
        if let cached = entries.withLock({ $0[schema] }) { return cached }
        let compiled = try JSONSchema(schema)
        entries.withLock { entries in
            if entries.count >= limit { entries.removeAll() }
            entries[schema] = compiled
        }
        return compiled
    }
}
