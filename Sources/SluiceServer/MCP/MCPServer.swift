import Foundation
import SluiceJSON

/// What every MCP session of a server shares: the plans offered as tools, the run manager,
/// and the server's identity and choices.
public final class MCPServer: Sendable {
    /// The handshake-era (legacy) versions spoken, newest first; an unknown version requested
    /// in `initialize` gets the newest.
    public static let supportedVersions = ["2025-11-25", "2025-06-18", "2025-03-26"]
    public static let latestVersion = "2025-11-25"
    /// The versions served per request (stateless, version and capabilities in `_meta`).
    public static let modernVersions = ["2026-07-28"]
    /// Every version, newest first: `server/discover` and `UnsupportedProtocolVersion` list these.
    public static let allVersions = modernVersions + supportedVersions

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
        /// Signs the `requestState` of 2026-07-28 input requests (HMAC-SHA256). Random per
        /// process unless set: replicas that share runs must share it.
        public var requestStateSecret: [UInt8]
        /// The lifetime of the `requestState` of a 2026-07-28 input request, and how long a run
        /// started from the web page with `"confirm": "ask"` waits for its answer before it is
        /// cancelled. (A run waiting in the store for an MCP answer is not cancelled on its own.)
        public var inputWaitSeconds: Int
        /// `ttlMs` on 2026-07-28 list and discover results (the plans do not change while serving).
        public var listTTLMilliseconds: Int
        /// Plans with at most this many top-level steps answer a 2026-07-28 call inline even when
        /// the client takes tasks; longer ones (every shipped report) answer with a task.
        public var inlineStepLimit: Int

        public init(
            name: String = "sluice", version: String = "0.1.0", useClientSampling: Bool = false,
            defaultLogLevel: MCPLogLevel = .info, taskTTLMilliseconds: Int = 3_600_000,
            taskPollIntervalMilliseconds: Int = 1000, maxTasksPerSession: Int = 100,
            requestStateSecret: [UInt8] = MCPServer.randomSecret(), inputWaitSeconds: Int = 900, listTTLMilliseconds: Int = 300_000,
            inlineStepLimit: Int = 3
        ) {
            self.inlineStepLimit = inlineStepLimit
            self.requestStateSecret = requestStateSecret
            self.inputWaitSeconds = inputWaitSeconds
            self.listTTLMilliseconds = listTTLMilliseconds
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
    /// Runs of 2026-07-28 calls parked on a question to their caller.
    let waiting: WaitingInputs
    /// Open 2026-07-28 `subscriptions/listen` streams (ended with a result at shutdown).
    let subscriptions = MCPSubscriptions(perUser: MCPServer.listensPerUser)
    /// `subscriptions/listen` streams one user may hold open at once.
    public static let listensPerUser = 8

    public init(library: PlanLibrary, runs: RunManager, configuration: Configuration = Configuration()) {
        self.library = library
        self.runs = runs
        self.configuration = configuration
        self.waiting = WaitingInputs(timeout: .seconds(configuration.inputWaitSeconds))
    }

    /// 32 random bytes (a new `requestState` key for each process by default).
    public static func randomSecret() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    /// A new session for one client connection (stdio) or one `MCP-Session-Id` (HTTP).
    ///
    /// - Parameters:
    ///   - user: who owns the runs started through this session.
    ///   - unrelated: where messages tied to no open request go (task elicitations).
    ///   - sessionID: the `MCP-Session-Id`; a connection of its own (stdio) gets a fresh one.
    public func makeSession(user: String, unrelated: any MCPOutbound, sessionID: String? = nil) -> MCPSession {
        MCPSession(server: self, user: user, unrelated: unrelated, sessionID: sessionID ?? UUID().uuidString.lowercased())
    }

    /// The seed's orchestrator tool name.
    public static let orchestratorToolName = "orchestrator_mcp_streaming"
}
