import SluiceJSON

/// What every MCP session of a server shares: the plans offered as tools, the run manager,
/// and the server's identity and choices.
public final class MCPServer: Sendable {
    /// The protocol versions spoken, newest first; an unknown requested version gets the newest.
    public static let supportedVersions = ["2025-11-25", "2025-06-18", "2025-03-26"]
    public static let latestVersion = "2025-11-25"

    public struct Configuration: Sendable {
        public var name: String
        public var version: String
        /// Run model steps through `sampling/createMessage` on the calling client when it
        /// declared sampling (`SLUICE_MODEL=sampling`).
        public var useClientSampling: Bool
        /// The level below which `notifications/message` are not sent until `logging/setLevel`.
        public var defaultLogLevel: MCPLogLevel
        /// How long a finished task is kept, in milliseconds (a client may ask for less).
        public var taskTTLMilliseconds: Int
        /// The polling interval suggested to task clients, in milliseconds.
        public var taskPollIntervalMilliseconds: Int
        /// The most tasks a session keeps; the oldest finished ones go first.
        public var maxTasksPerSession: Int

        public init(
            name: String = "sluice", version: String = "0.1.0", useClientSampling: Bool = false,
            defaultLogLevel: MCPLogLevel = .info, taskTTLMilliseconds: Int = 3_600_000,
            taskPollIntervalMilliseconds: Int = 1000, maxTasksPerSession: Int = 100
        ) {
            self.name = name
            self.version = version
            self.useClientSampling = useClientSampling
            self.defaultLogLevel = defaultLogLevel
            self.taskTTLMilliseconds = taskTTLMilliseconds
            self.taskPollIntervalMilliseconds = taskPollIntervalMilliseconds
            self.maxTasksPerSession = maxTasksPerSession
        }
    }

    public let library: PlanLibrary
    public let runs: RunManager
    public let configuration: Configuration

    public init(library: PlanLibrary, runs: RunManager, configuration: Configuration = Configuration()) {
        self.library = library
        self.runs = runs
        self.configuration = configuration
    }

    /// A new session for one client connection (stdio) or one `MCP-Session-Id` (HTTP).
    ///
    /// - Parameters:
    ///   - user: who owns the runs started through this session.
    ///   - unrelated: where messages tied to no open request go (task elicitations).
    public func makeSession(user: String, unrelated: any MCPOutbound) -> MCPSession {
        MCPSession(server: self, user: user, unrelated: unrelated)
    }

    /// The seed's orchestrator tool name.
    public static let orchestratorToolName = "orchestrator_mcp_streaming"
}
