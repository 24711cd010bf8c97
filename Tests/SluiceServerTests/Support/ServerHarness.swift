import Foundation
import SluiceEngine
import SluiceJSON
import SluicePlan
import SluiceProviders
import SluiceStore
@testable import SluiceServer

/// An in-process server on 127.0.0.1 with an OS-assigned port, for the HTTP tests.
enum ServerHarness {
    /// The fixture plans plus the shipped ones.
    static func library() throws -> PlanLibrary {
        let (library, problems) = PlanLibrary.load(catalog: PlanCatalog(directories: [TestPaths.fixturePlans, TestPaths.shippedPlans]))
        guard problems.isEmpty else { throw MCPTestClient.Failure(description: "plans: \(problems)") }
        return library
    }

    /// The real engine with the offline providers and no delays.
    static func engineExecutor() throws -> EngineRunExecutor {
        let providers = try RunEngine.Providers.offline(
            corpusFolder: TestPaths.corpus, documentsRoot: TestPaths.repository.path,
            model: SimulatedModel.Configuration(chunkDelay: .zero)
        )
        return EngineRunExecutor(providers: providers, configuration: RunEngine.Configuration(catalog: PlanCatalog(directories: [TestPaths.fixturePlans, TestPaths.shippedPlans])))
    }

    /// `body` with the real engine recording runs in a SQLite store in a fresh folder, removed
    /// after: what MCP 2026-07-28 input requests need (a waiting run lives in the store).
    static func withDurableExecutor<T: Sendable>(_ body: (DurableRunExecutor) async throws -> T) async throws -> T {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-durable-\(UUID().uuidString)").path
        defer {
            do { try FileManager.default.removeItem(atPath: folder) } catch { print("could not remove \(folder): \(error)") }
        }
        return try await body(DurableRunExecutor(engine: try engineExecutor(), store: OpenedStore(try SQLiteRunStore(home: folder))))
    }

    /// Runs `body` against a server; the server stops when `body` returns.
    static func withServer<T: Sendable>(
        executor: (any RunExecutor)? = nil,
        configuration: SluiceHTTPServer.Configuration = SluiceHTTPServer.Configuration(port: 0),
        mcp mcpConfiguration: MCPServer.Configuration = MCPServer.Configuration(),
        _ body: @Sendable (Int, SluiceHTTPServer) async throws -> T
    ) async throws -> T {
        let metrics = ServerMetrics()
        let runs = RunManager(executor: try executor ?? engineExecutor(), observer: metrics)
        let mcp = MCPServer(library: try library(), runs: runs, configuration: mcpConfiguration)
        var configuration = configuration
        configuration.port = 0
        // Runs a test leaves waiting are cancelled at once when it ends.
        configuration.shutdownGracePeriod = .zero
        let server = SluiceHTTPServer(mcp: mcp, configuration: configuration, metrics: metrics)
        let ports = Mailbox<Int>()
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await server.run(handleSignals: false) { port in ports.put(port) }
                return nil
            }
            guard let port = await ports.take() else { throw MCPTestClient.Failure(description: "the server did not start") }
            let result: T
            do {
                result = try await body(port, server)
            } catch {
                group.cancelAll()
                throw error
            }
            // A graceful stop, as SIGTERM does: the server drains, then `run` returns.
            await server.shutdown()
            try await group.waitForAll()
            return result
        }
    }
}
