import Foundation
import SluiceJSON
import SluiceTesting
import Testing

/// The per-user limits of real `sluice serve` replicas on one PostgreSQL store, where a
/// request's replica alone cannot know the count: MCP sessions, and resumes of stored runs.
@Suite(.serialized, .timeLimit(.minutes(5)), .enabled(if: PostgresCluster.available, "PostgreSQL is not installed (CI installs it)"))
struct PostgresLimitsProcessTests {
    typealias Admission = PostgresAdmissionProcessTests
    typealias Replicas = PostgresReplicaProcessTests

    static let initialize: JSONValue = [
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": ["protocolVersion": "2025-11-25", "capabilities": .object(JSONObject()), "clientInfo": ["name": "t", "version": "1"]],
    ]

    static func mcpHeaders(_ user: [String: String]) -> [String: String] {
        user.merging(["Accept": "application/json, text/event-stream"]) { $1 }
    }

    /// `--sessions-per-user` counts a user's MCP sessions on every replica: alice, at her
    /// limit with a session on one replica, is refused (429, the same message) on the other;
    /// bob is not; once she ends her session she opens one on the other.
    @Test func aUserAtTheSessionLimitOnOneReplicaIsRefusedOnAnother() async throws {
        let options = ["--sessions-per-user", "1"]
        let pair = try await Admission.Pair.start(environment: ["SLUICE_API_KEYS": Admission.keys], first: options, second: options)
        defer { pair.end() }
        let (first, second) = (pair.first, pair.second)
        let opened = try await HTTP.request(first.port, "POST", "/mcp", headers: Self.mcpHeaders(Admission.alice), json: Self.initialize)
        #expect(opened.status == 200, "\(opened.text)")
        let sessionID = try #require(opened.headers["mcp-session-id"], "\(opened.headers)")

        let refused = try await HTTP.request(second.port, "POST", "/mcp", headers: Self.mcpHeaders(Admission.alice), json: Self.initialize)
        #expect(refused.status == 429, "\(refused.text)")
        #expect(refused.headers["retry-after"] == "5")
        #expect(refused.json?["error"]?["message"]?.stringValue?.contains("you already hold 1 MCP sessions (the per-user limit)") == true, "\(refused.text)")
        #expect(try await Replicas.psql("SELECT count(*) FROM mcp_sessions WHERE user_name = 'alice'", database: pair.database) == "1")

        let bobs = try await HTTP.request(second.port, "POST", "/mcp", headers: Self.mcpHeaders(Admission.bob), json: Self.initialize)
        #expect(bobs.status == 200, "\(bobs.text)")

        let ended = try await HTTP.request(first.port, "DELETE", "/mcp", headers: Admission.alice.merging(["MCP-Session-Id": sessionID]) { $1 })
        #expect(ended.status == 204, "\(ended.text)")
        let again = try await HTTP.request(second.port, "POST", "/mcp", headers: Self.mcpHeaders(Admission.alice), json: Self.initialize)
        #expect(again.status == 200, "\(again.text)")
    }
}
