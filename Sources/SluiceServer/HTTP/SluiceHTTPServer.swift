import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import UnixSignals

/// Sluice's HTTP server on one port: MCP streamable HTTP at `/mcp`, REST + SSE under `/v1`,
/// the seeds' routes, `/healthz` and `/metrics`, and the operator's web pages (`/`, `/runs/{id}`,
/// `/plans/{name}`).
///
/// ```swift
/// let server = SluiceHTTPServer(mcp: mcpServer, configuration: .init(port: 8000))
/// try await server.run()          // until SIGTERM/SIGINT; then drains the runs
/// ```
public final class SluiceHTTPServer: Sendable {
    public struct Configuration: Sendable {
        /// 127.0.0.1 unless told otherwise.
        public var host: String
        /// 0 lets the OS choose (tests); see ``SluiceHTTPServer/run(onListening:)``.
        public var port: Int
        public var apiKeys: APIKeys
        public var origins: OriginPolicy
        /// Host names answered besides the loopback ones and the bound address (`--allow-host`).
        public var allowedHosts: [String] = []
        /// A connection with no request in progress — idle between requests, or whose request
        /// headers have not all arrived (slowloris) — is closed after this long.
        public var idleTimeout: Duration = .seconds(30)
        /// A request's body must have arrived this long after its headers, else the connection is closed.
        public var bodyTimeout: Duration = .seconds(30)
        /// Connections open at once; past it the server stops accepting until one closes.
        public var maxConnections: Int = 1024
        /// Runs and MCP sessions per user, runs server-wide (see ``ServingLimits``).
        public var limits: ServingLimits = ServingLimits()
        /// The largest request body accepted (413 beyond).
        public var maxBodyBytes: Int
        /// How often an idle SSE stream gets a `: heartbeat` comment.
        public var heartbeatInterval: Duration
        /// MCP sessions idle this long end (never while a call or task of theirs runs).
        public var sessionIdleTimeout: Duration
        /// Events kept per MCP stream for `Last-Event-ID` resumption.
        public var replayBufferSize: Int
        /// Finished POST streams kept per MCP session for resumption.
        public var finishedStreamsKept: Int
        /// At shutdown, how long runs may go on before they are cancelled.
        public var shutdownGracePeriod: Duration
        /// After the grace period, how long connections may take to close before everything is cancelled.
        public var shutdownMargin: Duration = .seconds(10)
        /// How long a stream of an interrupted run (`GET /v1/runs/{id}/events`, a `tools/call`
        /// resumed after a restart) waits for the run to be resumed before it ends.
        public var interruptedRunWait: Duration = .seconds(30)
        /// On a store with wake-ups (PostgreSQL LISTEN/NOTIFY), how often a follower of a run
        /// on another replica reads the log without one (`SLUICE_STORE_FOLLOW_POLL`).
        public var storeFollowPoll: Duration = .seconds(2)

        public init(
            host: String = "127.0.0.1", port: Int = 8000, apiKeys: APIKeys = APIKeys([]), origins: OriginPolicy = OriginPolicy(),
            maxBodyBytes: Int = 1 << 20, heartbeatInterval: Duration = .seconds(15), sessionIdleTimeout: Duration = .seconds(1800),
            replayBufferSize: Int = 1000, finishedStreamsKept: Int = 16, shutdownGracePeriod: Duration = .seconds(30)
        ) {
            self.host = host
            self.port = port
            self.apiKeys = apiKeys
            self.origins = origins
            self.maxBodyBytes = maxBodyBytes
            self.heartbeatInterval = heartbeatInterval
            self.sessionIdleTimeout = sessionIdleTimeout
            self.replayBufferSize = replayBufferSize
            self.finishedStreamsKept = finishedStreamsKept
            self.shutdownGracePeriod = shutdownGracePeriod
        }
    }

    public let mcp: MCPServer
    public let configuration: Configuration
    public let metrics: ServerMetrics
    var runs: RunManager { mcp.runs }
    let mcpSessions: MCPHTTPSessions
    let jobs = JobQueue()
    /// The running service group, for ``shutdown()``.
    private let group = Mutex<ServiceGroup?>(nil)

    /// - Parameter metrics: pass the same instance as the ``RunManager``'s observer to count runs.
    public init(mcp: MCPServer, configuration: Configuration = Configuration(), metrics: ServerMetrics = ServerMetrics()) {
        self.mcp = mcp
        self.configuration = configuration
        self.metrics = metrics
        self.mcpSessions = MCPHTTPSessions(streamCapacity: configuration.replayBufferSize)
    }

    func makeRouter() -> Router<SluiceRequestContext> {
        let router = Router(context: SluiceRequestContext.self)
        var logger = Logger(label: "sluice.http")
        logger.logLevel = .warning
        router.add(middleware: BoundaryMiddleware(
            keys: configuration.apiKeys, hosts: HostPolicy(boundHost: configuration.host, allowed: configuration.allowedHosts),
            origins: configuration.origins, metrics: metrics, logger: logger
        ))
        addMCPRoutes(to: router)
        addRESTRoutes(to: router)
        addWebRoutes(to: router)
        return router
    }

    /// Serves until the task is cancelled or the process gets SIGTERM/SIGINT: then stops
    /// accepting, lets runs finish for the grace period, cancels the rest (recording
    /// `run.cancelled`), and returns — or, on a shared store, stops the runs at once without
    /// ending them, for another replica to take over (see ``RunHandBack``).
    ///
    /// - Parameter onListening: called with the bound port once the server accepts connections.
    public func run(handleSignals: Bool = true, onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        var logger = Logger(label: "sluice.http")
        logger.logLevel = .warning
        let bodyTimeout = TimeAmount(configuration.bodyTimeout)
        let channel = HTTP1Channel.Configuration(
            additionalChannelHandlers: [ConnectionGuard(bodyTimeout: bodyTimeout)],
            idleTimeout: TimeAmount(configuration.idleTimeout)
        )
        let app = Application(
            router: makeRouter(),
            server: .http1(configuration: channel),
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port), serverName: "sluice",
                availableConnectionsDelegate: MaximumAvailableConnections(configuration.maxConnections)
            ),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
            logger: logger
        )
        let background = BackgroundService(server: self)
        var groupConfiguration = ServiceGroupConfiguration(
            // Shut down in reverse order: the runs drain first (new runs are refused, open SSE
            // streams end with their runs), then the HTTP server stops.
            services: [
                .init(service: app),
                .init(service: background),
            ],
            gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [],
            logger: logger
        )
        // A connection that never ends (a client holding a stream open) must not hold the
        // process forever: past the grace period plus this margin, everything is cancelled.
        groupConfiguration.maximumGracefulShutdownDuration = configuration.shutdownGracePeriod + configuration.shutdownMargin
        let group = ServiceGroup(configuration: groupConfiguration)
        self.group.withLock { $0 = group }
        defer { self.group.withLock { $0 = nil } }
        try await group.run()
    }

    /// Shuts down as SIGTERM does: stop accepting, let runs finish for the grace period, cancel
    /// the rest, then ``run(handleSignals:onListening:)`` returns.
    public func shutdown() async {
        let group = self.group.withLock { $0 }
        await group?.triggerGracefulShutdown()
    }
}

/// Runs the run manager, the MCP job group and the session sweeper; on graceful shutdown,
/// drains the runs (grace period, then cancellation).
private struct BackgroundService: Service {
    let server: SluiceHTTPServer

    func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { await server.runs.run() }
            group.addTask { await server.jobs.run() }
            let shuttingDown = await withTaskGroup(of: Void.self) { sweeper in
                sweeper.addTask {
                    while !Task.isCancelled {
                        await server.expireMCPSessions()
                        do {
                            try await Task.sleep(for: .seconds(30))
                        } catch {
                            return
                        }
                    }
                }
                defer { sweeper.cancelAll() }
                // Wait for SIGTERM (or `shutdown()`); a cancellation stops everything at once.
                do {
                    try await gracefulShutdown()
                    return true
                } catch {
                    return false
                }
            }
            guard shuttingDown else {
                group.cancelAll()
                return
            }
            // Drain: refuse new runs, let running ones finish for the grace period, cancel the
            // rest; end the sessions; then let the queued MCP work finish on its own (every
            // call ends with its run), so no answer is dropped.
            // Listen streams end first, answered: they hold no work, only connections.
            server.mcp.subscriptions.closeAll()
            await server.runs.drain(gracePeriod: server.configuration.shutdownGracePeriod)
            server.mcpSessions.closeAll(reason: "the server is shutting down")
            server.jobs.close()
        }
    }
}
