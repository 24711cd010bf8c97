public import SluiceJSON

/// What makes a run an MCP 2025-11-25 task (a task-augmented `tools/call`), kept in the run's
/// `options` under ``optionKey``: a task IS its run (the task id is the run id), so the runs
/// table holds tasks too, and any process sharing the store answers `tasks/*` for it.
///
/// The session binds the task: only the session that made it (and its user) sees it.
public struct MCPTaskRecord: Sendable, Hashable {
    /// The key in a run's `options`.
    public static let optionKey = "mcp_task"

    /// The `MCP-Session-Id` of the session that made it (a per-connection id on stdio).
    public var session: String
    /// How long the task is kept once it has ended, in milliseconds.
    public var ttlMilliseconds: Int
    /// The polling interval suggested to the client, in milliseconds.
    public var pollIntervalMilliseconds: Int

    public init(session: String, ttlMilliseconds: Int, pollIntervalMilliseconds: Int) {
        self.session = session
        self.ttlMilliseconds = ttlMilliseconds
        self.pollIntervalMilliseconds = pollIntervalMilliseconds
    }

    public var jsonValue: JSONValue {
        [
            "session": .string(session), "ttl_ms": .integer(Int64(ttlMilliseconds)),
            "poll_interval_ms": .integer(Int64(pollIntervalMilliseconds)),
        ]
    }

    /// The task a run's `options` record; nil for a run that is no 2025-11-25 task.
    public init?(options: JSONValue) {
        guard let task = options[Self.optionKey], let session = task["session"]?.stringValue,
            let ttl = task["ttl_ms"]?.integerValue, let poll = task["poll_interval_ms"]?.integerValue
        else { return nil }
        self.init(session: session, ttlMilliseconds: Int(ttl), pollIntervalMilliseconds: Int(poll))
    }
}
