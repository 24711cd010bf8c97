import ArgumentParser
import Foundation
import SluiceEngine
import SluicePlan
import SluiceProviders
import SluiceServer
import SluiceStore
import SluiceTracing

/// `sluice serve`: every plan as an MCP tool (stdio, or streamable HTTP at /mcp) plus REST + SSE.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Serve the plans: MCP over stdio (--stdio), or HTTP with MCP at /mcp, REST + SSE under /v1, web pages at /.",
        discussion: """
            Environment: SLUICE_API_KEYS="key1:alice,key2:bob" requires a key on every HTTP route but /healthz and the web pages (which ask for it). \
            SLUICE_MODEL=sampling runs model steps through the MCP client's sampling/createMessage when it offers it.
            """
    )

    @Flag(name: .long, help: "MCP over stdin/stdout (newline-delimited JSON-RPC); logs go to stderr.")
    var stdio = false

    @Option(name: .long, help: "Address to bind (HTTP).")
    var host = "127.0.0.1"

    @Option(name: .long, help: "Port to listen on (HTTP); 0 picks a free one.")
    var port = 8000

    @OptionGroup var directory: PlanDirectoryOptions

    @Flag(help: "Serve with no keys and no network: a simulated model and the local corpus.")
    var offline = false

    @Option(name: .long, help: "With --offline: the folder of local documents searched (default: $SLUICE_CORPUS, else ./corpus when there is one, else none).")
    var corpus: String?

    @Option(name: .long, help: "Seconds runs may go on after SIGTERM before they are cancelled (SQLite store; a PostgreSQL store hands them back at once).")
    var grace: Int = 30

    @Option(name: .customLong("allow-origin"), help: "A browser Origin allowed besides loopback ones, e.g. https://app.example.com (repeatable).")
    var allowedOrigins: [String] = []

    @Option(name: .customLong("allow-host"), help: "A Host name the server answers to besides loopback names and the bound address (repeatable).")
    var allowedHosts: [String] = []

    @Option(name: .long, help: "Folder that load steps and /v1/extract may read local files from (default: $SLUICE_DOCUMENT_ROOT; without either, local paths are refused).")
    var documents: String?

    @Option(name: .customLong("max-body-bytes"), help: "The largest request body accepted.")
    var maxBodyBytes = 1 << 20

    @Option(name: .customLong("idle-timeout"), help: "Seconds a connection may stay open with no request in progress, headers still arriving included.")
    var idleTimeout = 30

    @Option(name: .customLong("body-timeout"), help: "Seconds a request body may take to arrive after its headers.")
    var bodyTimeout = 30

    @Option(name: .customLong("max-connections"), help: "Connections open at once; past it new ones wait to be accepted.")
    var maxConnections = 1024

    @Option(name: .customLong("runs-per-user"), help: "Unfinished runs one user (API key) may have; past it 429.")
    var runsPerUser = ServingLimits().runsPerUser

    @Option(name: .customLong("sessions-per-user"), help: "MCP sessions one user may hold open; past it 429.")
    var sessionsPerUser = ServingLimits().sessionsPerUser

    @Option(name: .customLong("max-runs"), help: "Runs executing at once, server-wide; more wait in a queue.")
    var maxRuns = ServingLimits().concurrentRuns

    @Option(name: .customLong("max-queued-runs"), help: "Runs waiting for a place; past it 429.")
    var maxQueuedRuns = ServingLimits().queuedRuns

    @OptionGroup var store: StoreOptions

    @Flag(name: .customLong("no-store"), help: "Do not record runs in the store ($SLUICE_HOME/runs.sqlite, or --store).")
    var noStore = false

    @Flag(name: .customLong("no-resume"), help: "Do not continue the runs a stopped server left interrupted (HTTP).")
    var noResume = false

    @Flag(help: "Every run reuses model and search responses for identical requests (the store's response cache); without it, plans with a \"cache\" setting still do.")
    var cache = false

    @Option(name: .customLong("cache-ttl"), help: "With --cache: how long cached responses answer, e.g. 12h or 30d (default: until sluice cache clear).")
    var cacheTTL: String?

    @Option(name: .customLong("simulated-delay-ms"), help: .hidden)
    var simulatedDelayMilliseconds = 15

    /// Checked in run(), not validate(): ArgumentParser rewraps what validate() throws, and
    /// every error should reach SluiceMain as the CLIError it is.
    private func checkOptions() throws(CLIError) {
        for (value, option) in [(idleTimeout, "--idle-timeout"), (bodyTimeout, "--body-timeout"), (maxConnections, "--max-connections"),
                                (runsPerUser, "--runs-per-user"), (sessionsPerUser, "--sessions-per-user"), (maxRuns, "--max-runs")] where value < 1 {
            throw .invalid("\(option) must be at least 1")
        }
        if maxQueuedRuns < 0 { throw .invalid("--max-queued-runs must be 0 or more") }
        if cacheTTL != nil && !cache { throw .invalid("--cache-ttl needs --cache") }
        if cache && noStore { throw .invalid("--cache needs the store; remove --no-store") }
        if store.url != nil && noStore { throw .invalid("--store and --no-store contradict each other; remove one") }
        if let cacheTTL { _ = try DurationText.seconds(cacheTTL, option: "--cache-ttl") }
    }

    func run() async throws {
        try checkOptions()
        let environment = ProcessInfo.processInfo.environment
        let (library, problems) = PlanLibrary.load(catalog: directory.catalog)
        for problem in problems { Terminal.error("skipping invalid plan \(problem)") }
        if library.plans.isEmpty {
            throw CLIError.invalid("no plans to serve in \(directory.catalog.directories.joined(separator: ", "))")
        }
        let configuration = try ProviderConfiguration.loadForCLI()
        let sampling = configuration.defaultModel == "sampling"
        let providers = try makeProviders(configuration: configuration).redacting(configuration.redactor)
        var engineConfiguration = RunEngine.Configuration(catalog: directory.catalog)
        engineConfiguration.defaultModel = sampling ? EngineRunExecutor.samplingModel : configuration.defaultModel
        let metrics = ServerMetrics()
        var engineExecutor = EngineRunExecutor(providers: providers, configuration: engineConfiguration)
        let traces = try TraceExport.startForCLI(environment: environment, redactor: configuration.redactor)
        engineExecutor.traces = traces
        var limits = ServingLimits(runsPerUser: runsPerUser, sessionsPerUser: sessionsPerUser, concurrentRuns: maxRuns, queuedRuns: maxQueuedRuns)
        limits.unservedQueuedRunTimeout = try unservedQueueTimeout(environment: environment)
        let followPoll = Duration.seconds(try followPoll(environment: environment))
        let runs = RunManager(
            executor: noStore ? engineExecutor : try await durable(engineExecutor, environment: environment), observer: metrics, limits: limits)
        var mcpConfiguration = MCPServer.Configuration(useClientSampling: sampling)
        if !noStore {
            // Kept with the runs: a 2026-07-28 confirm answered after a restart still verifies.
            do {
                mcpConfiguration.requestStateSecret = try MCPServer.requestStateSecret(home: SluiceHome.resolve(environment: environment), environment: environment)
            } catch {
                Terminal.error("cannot start: the MCP request-state key: \(error.localizedDescription) (or serve with --no-store)")
                throw ExitCode(ExitStatus.invalid)
            }
        } else if let shared = environment["SLUICE_MCP_STATE_SECRET"], !shared.isEmpty {
            mcpConfiguration.requestStateSecret = Array(shared.utf8)
        }
        let mcp = MCPServer(library: library, runs: runs, configuration: mcpConfiguration)

        if stdio {
            await withDiscardingTaskGroup { group in
                group.addTask { await runs.run() }
                group.addTask { await runs.claimQueuedRuns(library: library, every: followPoll) { Terminal.error("sluice: \($0)") } }
                await StdioMCPTransport(server: mcp).run()
                await runs.drain(gracePeriod: .zero)
                group.cancelAll()
            }
            // Stdin closed: on a shared store the runs stopped without ending (handed back);
            // their leases go back too, so a running replica takes them over at once.
            await Self.releaseLeases(of: runs)
            await traces?.shutdown()
            return
        }

        let keys: APIKeys
        do {
            keys = try APIKeys(parsing: configuration["SLUICE_API_KEYS"] ?? environment["SLUICE_API_KEYS"] ?? "")
        } catch {
            throw CLIError(lines: [error.description], exitCode: ExitStatus.invalid)
        }
        var serverConfiguration = SluiceHTTPServer.Configuration(
            host: host, port: port, apiKeys: keys, origins: OriginPolicy(allowed: Set(allowedOrigins)),
            maxBodyBytes: maxBodyBytes, shutdownGracePeriod: .seconds(grace)
        )
        serverConfiguration.allowedHosts = allowedHosts
        serverConfiguration.idleTimeout = .seconds(idleTimeout)
        serverConfiguration.bodyTimeout = .seconds(bodyTimeout)
        serverConfiguration.maxConnections = maxConnections
        serverConfiguration.limits = limits
        serverConfiguration.storeFollowPoll = followPoll
        let server = SluiceHTTPServer(mcp: mcp, configuration: serverConfiguration, metrics: metrics)
        let plans = library.plans.count
        // Interrupted server runs continue alongside; stopping the server cancels them (or hands them back).
        let resumer = noResume ? nil : runs.executor.durable
        let handBack = runs.executor.durable?.handBack
        try await withThrowingTaskGroup(of: Void.self) { group in
            // A shared queue: take the runs any replica queued while this one has room.
            group.addTask { await runs.claimQueuedRuns(library: library, every: followPoll) { Terminal.error("sluice: \($0)") } }
            if let resumer {
                if store.resolved(environment: environment) != nil {
                    // A shared store: keep taking over what replicas that died leave behind.
                    let interval = Duration.seconds(max(try store.leaseTimeout(environment: environment) / 3, 0.5))
                    group.addTask { await runs.takeOverInterrupted(library: library, every: interval) { Terminal.error("sluice: \($0)") } }
                } else {
                    group.addTask { await resumer.resumeInterrupted(library: library) { Terminal.error("sluice: \($0)") } }
                }
            }
            try await server.run { port in
                Terminal.error("sluice: serving \(plans) plan\(plans == 1 ? "" : "s") on http://\(host):\(port) (MCP at /mcp)")
            }
            // The runs taken over here stop now too: handed back on a shared store, else cancelled.
            handBack?.begin()
            group.cancelAll()
        }
        // Every run has stopped and written its last event: give their leases back.
        await Self.releaseLeases(of: runs)
        // The runs have drained: their spans are exported before the process exits.
        await traces?.shutdown()
    }

    /// Offline providers, or the configured services. A server runs many plans, so nothing is
    /// required up front: a plan whose model or search service is missing fails when it runs,
    /// saying which variable to set (or the MCP client samples for it).
    private func makeProviders(configuration: ProviderConfiguration) throws -> RunEngine.Providers {
        let documentsRoot = try documentRoot(configuration: configuration)
        if offline {
            let chosen = try OfflineCorpus.choose(option: corpus, configuration: configuration)
            Terminal.error("sluice: " + chosen.note)
            return .offline(
                corpus: chosen.corpus, documentsRoot: documentsRoot,
                model: SimulatedModel.Configuration(chunkDelay: .milliseconds(simulatedDelayMilliseconds))
            )
        }
        let factory = ProviderFactory(configuration: configuration)
        let search: any SearchProvider
        do {
            search = try factory.searchProvider()
        } catch {
            Terminal.error("sluice: no search service configured (\(error)); plans with search steps will fail")
            search = MissingSearch(reason: "\(error)")
        }
        return RunEngine.Providers(model: factory.modelRouter(), search: search, fetch: factory.fetchProvider(), documents: factory.documentLoader(root: documentsRoot))
    }

    /// `--documents`, else `SLUICE_DOCUMENT_ROOT`, else none: a server reads no local file unless
    /// told which folder (its working directory holds `.env` and the store).
    private func documentRoot(configuration: ProviderConfiguration) throws(CLIError) -> String? {
        guard let root = documents ?? configuration["SLUICE_DOCUMENT_ROOT"] else { return nil }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .invalid("the document folder '\(root)' (--documents or SLUICE_DOCUMENT_ROOT) is not a folder")
        }
        return root
    }
}

/// The search provider when none is configured: every search fails saying why.
private struct MissingSearch: SearchProvider {
    var reason: String

    func search(_ query: SearchQuery) async throws -> [SearchResult] {
        throw ProviderError(.notConfigured, "no search provider is configured: \(reason)", provider: "configuration")
    }
}

extension Serve {
    /// Every run recorded in the store (see ``DurableRunExecutor``); a store that cannot be
    /// opened stops the server before it serves anything.
    fileprivate func durable(_ executor: EngineRunExecutor, environment: [String: String]) async throws -> DurableRunExecutor {
        let ttl = try cacheTTL.map { try DurationText.seconds($0, option: "--cache-ttl") }
        let poll = try followPoll(environment: environment)
        do {
            let opened = try await store.open(environment: environment)
            var durable = DurableRunExecutor(engine: executor, store: opened, cacheAll: cache ? CacheSetting(timeToLive: ttl) : nil)
            if let leases = opened.leases {
                // Replicas share the store: SIGTERM hands the runs back for another to take over.
                durable.handBack = RunHandBack { () async throws(StoreError) in try await leases.releaseLeases() }
            }
            if opened.queue != nil {
                // A run queued here and executed by another replica is followed like a run on
                // another replica (`GET /v1/runs/{id}/events`): the same poll, and an interrupted
                // one is waited for until a replica takes it over when its lease runs out.
                durable.followPoll = .seconds(poll)
                durable.interruptedWait = .seconds(max(try store.leaseTimeout(environment: environment) * 2, 30))
            }
            return durable
        } catch {
            throw CLIError.invalid("cannot start: \(error.message) (or serve with --no-store)")
        }
    }
}

extension Serve {
    /// On a shared store, gives back the leases of the runs this process held, once every run
    /// has stopped (see ``RunHandBack``).
    fileprivate static func releaseLeases(of runs: RunManager) async {
        guard let handBack = runs.executor.durable?.handBack else { return }
        do {
            try await handBack.release()
        } catch {
            Terminal.error("sluice: cannot hand runs back: \(error.message); they are taken over when their leases run out")
        }
    }

    /// `SLUICE_STORE_FOLLOW_POLL`: the safety-net poll of a follower waiting for wake-ups.
    /// `SLUICE_QUEUE_UNSERVED_TIMEOUT`: how long a queued run may go with no live replica
    /// serving its plan version before it fails (see ``ServingLimits/unservedQueuedRunTimeout``).
    fileprivate func unservedQueueTimeout(environment: [String: String]) throws -> TimeInterval {
        guard let text = environment["SLUICE_QUEUE_UNSERVED_TIMEOUT"], !text.isEmpty else { return ServingLimits().unservedQueuedRunTimeout }
        let seconds = try DurationText.seconds(text, option: "SLUICE_QUEUE_UNSERVED_TIMEOUT")
        guard seconds > 0 else { throw CLIError.invalid("SLUICE_QUEUE_UNSERVED_TIMEOUT '\(text)': must be more than 0s") }
        return seconds
    }

    fileprivate func followPoll(environment: [String: String]) throws -> TimeInterval {
        guard let text = environment["SLUICE_STORE_FOLLOW_POLL"], !text.isEmpty else { return 2 }
        let seconds = try DurationText.seconds(text, option: "SLUICE_STORE_FOLLOW_POLL")
        guard seconds > 0 else { throw CLIError.invalid("SLUICE_STORE_FOLLOW_POLL '\(text)': must be more than 0s") }
        return seconds
    }
}
