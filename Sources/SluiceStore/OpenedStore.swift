/// A store as opened: the run store, and each capability its backend offers (nil when it does
/// not). Whoever opens a backend builds it (the CLI's `--store`, `sluice serve`) and passes it
/// down, so no one asks a store what else it is.
///
/// ```swift
/// let opened = OpenedStore(try SQLiteRunStore(home: SluiceHome.resolve()))
/// if let cache = opened.cache { … }          // `--cache`, `sluice serve --cache`
/// if let wakeups = opened.wakeups { … }      // followers wait instead of polling
/// ```
public struct OpenedStore: Sendable {
    /// Runs, their event logs, checkpoints and provider calls.
    public var runs: any RunStore
    /// Cached provider responses (`--cache`).
    public var cache: (any ResponseCache)?
    /// MCP sessions that outlive the server process.
    public var mcpSessions: (any MCPSessionStore)?
    /// Wake-ups when a run's log grows (else followers poll).
    public var wakeups: (any RunEventWakeups)?
    /// Leases a stopping server gives back (a store shared by replicas).
    public var leases: (any RunLeases)?
    /// A run queue replicas claim from (a store shared by replicas).
    public var queue: (any RunQueue)?

    public init(
        runs: any RunStore, cache: (any ResponseCache)? = nil, mcpSessions: (any MCPSessionStore)? = nil,
        wakeups: (any RunEventWakeups)? = nil, leases: (any RunLeases)? = nil, queue: (any RunQueue)? = nil
    ) {
        self.runs = runs
        self.cache = cache
        self.mcpSessions = mcpSessions
        self.wakeups = wakeups
        self.leases = leases
        self.queue = queue
    }

    /// Where the runs are kept, to tell people (see ``RunStore/location``).
    public var location: String { runs.location }
}

extension OpenedStore {
    /// The embedded store: runs, cached responses and MCP sessions in one SQLite file; no
    /// wake-ups (followers poll) and no leases (one machine).
    public init(_ store: SQLiteRunStore) {
        self.init(runs: store, cache: store, mcpSessions: store)
    }
}
