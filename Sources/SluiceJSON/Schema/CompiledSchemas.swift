import Synchronization

/// Compiled JSON Schemas shared by the whole process (``shared``): inputs, structured outputs,
/// gate rubrics and plan outputs are compiled once, not once per run or per model call (the
/// server makes an engine per run; compiling per run was about 2% of the served CPU, per
/// structured call about 1%).
///
/// Keyed by the schema itself, so equal schemas in different plans share one entry and a step
/// id reused by a called plan never picks up the wrong schema. Bounded: past `limit` entries the
/// cache starts over (plans have few schemas; only a process serving many plans gets there).
public final class CompiledSchemas: Sendable {
    /// The process's cache.
    public static let shared = CompiledSchemas()

    private let entries = Mutex<[JSONValue: JSONSchema]>([:])
    public let limit: Int

    public init(limit: Int = 512) {
        self.limit = limit
    }

    /// The compiled `schema`, compiling it on first use.
    public func compiled(_ schema: JSONValue) throws(SchemaError) -> JSONSchema {
        if let cached = entries.withLock({ $0[schema] }) { return cached }
        let compiled = try JSONSchema(schema)
        entries.withLock { entries in
            if entries.count >= limit { entries.removeAll() }
            entries[schema] = compiled
        }
        return compiled
    }
}
