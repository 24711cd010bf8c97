import Foundation
import SluiceJSON
import SluiceRunLog
import SluiceStore
import SluiceStorePostgres
import SluiceTesting
import Testing

/// An opened store says what its backend offers; the CLI and the server use exactly that (no
/// one asks a store what else it is).
@Suite struct OpenedStoreTests {
    @Test(arguments: StoreBackend.all) func eachBackendOffersWhatItKeeps(backend: StoreBackend) async throws {
        let temporary = try await TemporaryStore(backend)
        defer { temporary.remove() }
        let opened = try await backend.opened(temporary.location)
        defer { (opened.runs as? PostgresRunStore)?.close() }
        // Both keep cached responses and MCP sessions; only the shared store wakes followers
        // and leases its runs.
        #expect(opened.cache != nil)
        #expect(opened.mcpSessions != nil)
        #expect((opened.wakeups != nil) == (backend == .postgres))
        #expect((opened.leases != nil) == (backend == .postgres))
        #expect(opened.location == temporary.store.location)

        // The capabilities are the one store: what goes in through one is there through the others.
        try await opened.runs.createRun(NewRun(id: "r1", plan: PlanIdentity(name: "p", path: "/p.json", contentHash: "0"), inputs: [:]))
        #expect(try await temporary.store.run(id: "r1")?.status == .running)
        let cache = try #require(opened.cache)
        try await cache.storeResponse(kind: .search, request: "q", response: ["a"], expiresAt: nil)
        #expect(try await temporary.store.cachedResponse(kind: .search, request: "q", now: Date()) == ["a"])
    }
}
