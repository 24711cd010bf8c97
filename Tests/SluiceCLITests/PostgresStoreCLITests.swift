import Foundation
import SluiceTesting
import Testing

/// Where a CLI test keeps its runs: SQLite in its SLUICE_HOME, or a new database of the test
/// PostgreSQL cluster named by SLUICE_STORE (when PostgreSQL is installed, and always in CI).
enum CLIStore: String, CaseIterable, CustomTestStringConvertible {
    case sqlite, postgres

    static var all: [CLIStore] { PostgresCluster.available ? [.sqlite, .postgres] : [.sqlite] }

    var testDescription: String { rawValue }

    /// The environment selecting this store for a test using `home`.
    func environment(_ home: DurableHome) async throws -> [String: String] {
        switch self {
        case .sqlite: return home.environment
        case .postgres: return home.environment.merging(["SLUICE_STORE": try await PostgresStoreCLITests.newDatabase()]) { $1 }
        }
    }
}

/// `--store postgres://…` / `SLUICE_STORE`: runs recorded in PostgreSQL and read back by every
/// `runs` command, and a store that cannot be used is a clear error with no fallback to SQLite.
@Suite(.serialized, .enabled(if: PostgresCluster.available, "PostgreSQL is not installed (CI installs it)"))
struct PostgresStoreCLITests {
    /// A new database on the shared cluster; starting it and `createdb` block, so they run on a
    /// thread of their own, off the cooperative pool.
    static func newDatabase() async throws -> String {
        try await OffThread.run {
            guard let cluster = try PostgresCluster.shared() else { throw PostgresCluster.Failure(description: "PostgreSQL is not installed") }
            return try cluster.createDatabase(prefix: "cli")
        }
    }

    /// `psql` on the shared cluster, off the cooperative pool.
    static func psql(_ sql: String, database: String) async throws -> String {
        try await OffThread.run {
            guard let cluster = try PostgresCluster.shared() else { throw PostgresCluster.Failure(description: "PostgreSQL is not installed") }
            return try cluster.psql(sql, database: database)
        }
    }

    static let runArguments = ["run", "plans/news_report.json", "--offline", "--input", "task=AI agents", "--events", "ndjson"]

    /// The store named by the option or by the variable; either way nothing goes to SQLite.
    @Test(arguments: ["option", "variable"])
    func aRunIsRecordedInPostgresAndEveryRunsCommandReadsIt(how: String) async throws {
        let home = DurableHome()
        defer { home.remove() }
        let url = try await Self.newDatabase()
        let flag = how == "option" ? ["--store", url] : []
        let environment = how == "variable" ? home.environment.merging(["SLUICE_STORE": url]) { $1 } : home.environment

        let ran = try await CLIProcess.run(Self.runArguments + flag, environment: environment)
        #expect(ran.status == 0, "\(ran.stderr)")
        #expect(ran.stderr.contains("(recorded in \(url))"), "\(ran.stderr)")
        let printed = Events(ndjson: ran.stdout)
        let runID = try #require(printed.all.first?["run_id"] as? String)

        let listed = try await CLIProcess.run(["runs", "list", "--json"] + flag, environment: environment)
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(listed.stdout.contains(#""run_id":"\#(runID)","plan":"news_report","status":"completed""#), "\(listed.stdout)")
        let shown = try await CLIProcess.run(["runs", "show", String(runID.prefix(12))] + flag, environment: environment)
        #expect(shown.stdout.contains(#""status": "completed""#), "\(shown.stdout)\(shown.stderr)")
        let stored = Events(ndjson: try await CLIProcess.run(["runs", "events", runID] + flag, environment: environment).stdout)
        #expect(stored.all.count == printed.all.count)
        #expect(stored.all.compactMap { $0["seq"] as? Int } == Array(1...printed.all.count))
        // The rows are in PostgreSQL, and the SQLite home was never created.
        let database = try #require(url.split(separator: "/").last.map(String.init))
        let count = try await Self.psql("SELECT count(*) FROM events WHERE run_id = '\(runID)'", database: database)
        #expect(count.trimmingCharacters(in: .whitespacesAndNewlines) == "\(printed.all.count)")
        #expect(!FileManager.default.fileExists(atPath: home.path + "/runs.sqlite"))
        let elsewhere = try await CLIProcess.run(["runs", "list"], environment: home.environment)
        #expect(elsewhere.stdout.contains("no runs recorded yet"), "\(elsewhere.stdout)")
    }

    /// Each bad store, for a `runs` command, `run` and `serve`: exit non-zero, the reason on
    /// stderr, the password never shown, and no SQLite store made instead.
    @Test(arguments: [
        (url: "postgres://sluice:hunter2@127.0.0.1:1/sluice", says: "cannot be reached"),
        (url: "mysql://sluice@127.0.0.1/sluice", says: "is not a PostgreSQL URL"),
        (url: "postgres://127.0.0.1:5432/sluice", says: "has no user"),
        (url: "postgres://sluice@127.0.0.1:5432/", says: "names no database"),
        (url: "postgres://sluice@127.0.0.1:5432/db?sslmode=maybe", says: "unsupported parameter"),
        (url: "MISSING_DATABASE", says: "does not exist"),
    ])
    func aStoreThatCannotBeUsedIsAClearErrorWithNoFallback(store: (url: String, says: String)) async throws {
        let home = DurableHome()
        defer { home.remove() }
        var url = store.url
        if url == "MISSING_DATABASE" {
            url = try await OffThread.run {
                guard let cluster = try PostgresCluster.shared() else { throw PostgresCluster.Failure(description: "PostgreSQL is not installed") }
                return cluster.url(database: "no_such_database")
            }
        }
        for arguments in [["runs", "list"], Self.runArguments, ["serve", "--offline", "--port", "0"], ["cache", "clear"]] {
            for (flag, environment) in [(["--store", url], home.environment), ([], home.environment.merging(["SLUICE_STORE": url]) { $1 })] {
                let result = try await CLIProcess.run(arguments + flag, environment: environment)
                let command = "\(arguments.first ?? "") \(flag.isEmpty ? "SLUICE_STORE" : "--store")"
                #expect(result.status != 0, "\(command) exited 0")
                #expect(result.stderr.contains(store.says), "\(command): \(result.stderr)")
                #expect(result.stderr.contains(flag.isEmpty ? "SLUICE_STORE" : "--store"), "\(command): \(result.stderr)")
                #expect(!result.stderr.contains("hunter2"), "\(command) showed the password: \(result.stderr)")
                #expect(!FileManager.default.fileExists(atPath: home.path + "/runs.sqlite"), "\(command) fell back to SQLite")
            }
        }
    }

    @Test(arguments: [(lease: "0s", says: "at least 1s"), (lease: "soon", says: "expected a number and a unit")])
    func aBadLeaseIsRefused(lease: (lease: String, says: String)) async throws {
        let home = DurableHome()
        defer { home.remove() }
        let environment = home.environment.merging(["SLUICE_STORE": try await Self.newDatabase(), "SLUICE_STORE_LEASE": lease.lease]) { $1 }
        let result = try await CLIProcess.run(["runs", "list"], environment: environment)
        #expect(result.status != 0)
        #expect(result.stderr.contains("SLUICE_STORE_LEASE '\(lease.lease)'") && result.stderr.contains(lease.says), "\(result.stderr)")
    }

    @Test(arguments: [(poll: "0s", says: "must be more than 0s"), (poll: "often", says: "expected a number and a unit")])
    func aBadFollowPollIsRefused(poll: (poll: String, says: String)) async throws {
        let home = DurableHome()
        defer { home.remove() }
        let environment = home.environment.merging(["SLUICE_STORE": try await Self.newDatabase(), "SLUICE_STORE_FOLLOW_POLL": poll.poll]) { $1 }
        let result = try await CLIProcess.run(["serve", "--offline", "--port", "0"], environment: environment)
        #expect(result.status != 0)
        #expect(result.stderr.contains("SLUICE_STORE_FOLLOW_POLL '\(poll.poll)'") && result.stderr.contains(poll.says), "\(result.stderr)")
    }

    @Test(arguments: [(wait: "0s", says: "must be more than 0s"), (wait: "later", says: "expected a number and a unit")])
    func aBadUnservedQueueTimeoutIsRefused(wait: (wait: String, says: String)) async throws {
        let home = DurableHome()
        defer { home.remove() }
        let environment = home.environment.merging(["SLUICE_STORE": try await Self.newDatabase(), "SLUICE_QUEUE_UNSERVED_TIMEOUT": wait.wait]) { $1 }
        let result = try await CLIProcess.run(["serve", "--offline", "--port", "0"], environment: environment)
        #expect(result.status != 0)
        #expect(result.stderr.contains("SLUICE_QUEUE_UNSERVED_TIMEOUT '\(wait.wait)'") && result.stderr.contains(wait.says), "\(result.stderr)")
    }
}
