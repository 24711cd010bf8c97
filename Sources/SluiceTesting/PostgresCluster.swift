import Foundation
import Synchronization

/// A throwaway PostgreSQL server for tests: Debian's `initdb` and `pg_ctl` (from
/// `/usr/lib/postgresql/*/bin`), data in a temporary folder, listening on 127.0.0.1 on a free
/// port with trust authentication for the user `sluice`. Started once per test process
/// (``shared()``) and stopped when the process exits — by an `atexit` handler, and by a small
/// watchdog shell in case the test process is killed.
///
/// `initdb` refuses to run as root (CI runs as root): then the folder is given to the `postgres`
/// user (which Debian's package creates) and the server runs as that user through `runuser`.
///
/// ```swift
/// guard let cluster = try PostgresCluster.shared() else { return }   // nil: not installed, not CI
/// let url = try cluster.createDatabase()                             // postgres://sluice@127.0.0.1:PORT/test_…
/// ```
public final class PostgresCluster: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    public let binDirectory: String
    public let dataFolder: String
    public let port: Int
    public let user = "sluice"

    /// Whether the tests must fail (not skip) when PostgreSQL is missing: under `CI=true`.
    public static var required: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// The folder holding `initdb` and `pg_ctl` of the newest installed PostgreSQL, if any.
    public static var installedBinDirectory: String? {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }
        return versions.map { "\(root)/\($0)/bin" }.first { FileManager.default.isExecutableFile(atPath: "\($0)/initdb") }
    }

    /// Whether the PostgreSQL tests run here: when it is installed, and always under CI (where
    /// a missing PostgreSQL then fails them).
    public static var available: Bool { installedBinDirectory != nil || required }

    private static let sharedCluster = Mutex<Result<PostgresCluster, Failure>?>(nil)

    /// The process's cluster, started on first use; nil when PostgreSQL is not installed and
    /// this is not CI.
    ///
    /// - Throws: ``Failure`` saying what failed (initdb, start) and its output; under CI also
    ///   when PostgreSQL is not installed.
    public static func shared() throws(Failure) -> PostgresCluster? {
        let result = sharedCluster.withLock { state -> Result<PostgresCluster, Failure>? in
            if let state { return state }
            guard let bin = installedBinDirectory else {
                guard required else { return nil }
                let failure = Failure(description: "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb); CI installs Debian's postgresql package (.ci/run)")
                state = .failure(failure)
                return state
            }
            do {
                let cluster = try PostgresCluster(binDirectory: bin)
                atexit { PostgresCluster.stopShared() }
                state = .success(cluster)
            } catch let failure as Failure {
                state = .failure(failure)
            } catch {
                state = .failure(Failure(description: "\(error)"))
            }
            return state
        }
        return try result?.get()
    }

    /// Stops the shared cluster and removes its data (the `atexit` handler).
    public static func stopShared() {
        sharedCluster.withLock { state in
            if case .success(let cluster) = state { cluster.stop() }
            state = nil
        }
    }

    private let asPostgresUser: Bool
    private let folder: String

    private init(binDirectory: String) throws(Failure) {
        self.binDirectory = binDirectory
        asPostgresUser = getuid() == 0
        // As root, in /tmp itself: the postgres user must be able to reach the folder, which a
        // TMPDIR under /root would not let it.
        let base = asPostgresUser ? URL(fileURLWithPath: "/tmp") : FileManager.default.temporaryDirectory
        folder = base.appendingPathComponent("sluice-pg-\(UUID().uuidString.prefix(8))").path
        dataFolder = folder + "/data"
        port = try Self.freePort()
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw Failure(description: "cannot create \(folder): \(error)")
        }
        if asPostgresUser {
            try run("/bin/chown", ["postgres:postgres", folder], asServerUser: false)
        }
        try run("\(binDirectory)/initdb", ["-D", dataFolder, "-U", user, "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"])
        let options = "-p \(port) -k \(folder) -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=200"
        try run("\(binDirectory)/pg_ctl", ["-D", dataFolder, "-l", folder + "/server.log", "-o", options, "-w", "-t", "60", "start"])
        startWatchdog()
    }

    /// Runs blocking `work` (starting the cluster, `createdb`, `psql`) on a thread of its own,
    /// so async tests waiting for it do not hold the few threads of Swift's cooperative pool.
    public static func offThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await OffThread.run(work)
    }

    /// A new empty database; returns its URL (`postgres://sluice@127.0.0.1:PORT/NAME`).
    public func createDatabase(prefix: String = "test") throws(Failure) -> String {
        let name = "\(prefix)_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16))"
        try run("\(binDirectory)/createdb", ["-h", "127.0.0.1", "-p", "\(port)", "-U", user, name], asServerUser: false)
        return url(database: name)
    }

    public func url(database: String) -> String { "postgres://\(user)@127.0.0.1:\(port)/\(database)" }

    /// Runs SQL through `psql` (e.g. to look at what a store wrote); returns its unaligned output.
    public func psql(_ sql: String, database: String) throws(Failure) -> String {
        try run("\(binDirectory)/psql", ["-h", "127.0.0.1", "-p", "\(port)", "-U", user, "-d", database, "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql], asServerUser: false)
    }

    func stop() {
        _ = try? run("\(binDirectory)/pg_ctl", ["-D", dataFolder, "-m", "immediate", "-w", "stop"])
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// Stops the server when this process is gone, however it ended (a killed test run would
    /// otherwise leave a postgres behind).
    private func startWatchdog() {
        let stopCommand = (asPostgresUser ? "runuser -u postgres -- " : "") + "'\(binDirectory)/pg_ctl' -D '\(dataFolder)' -m immediate stop"
        let script = "while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done; \(stopCommand) >/dev/null 2>&1; rm -rf '\(folder)'"
        let argv = ["/bin/sh", "-c", script]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for descriptor: Int32 in 0...2 { posix_spawn_file_actions_addopen(&actions, descriptor, "/dev/null", descriptor == 0 ? O_RDONLY : O_WRONLY, 0) }
        Self.closeInheritedDescriptors(&actions)
        var cArguments = argv.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        var pid: pid_t = 0
        // Not waited for: it outlives the tests on purpose (reaped by init when we are gone).
        _ = posix_spawn(&pid, argv[0], &actions, nil, &cArguments, environ)
    }

    /// Runs `tool` and waits for it, its output (stdout and stderr) in a file read back after.
    ///
    /// posix_spawn and waitpid rather than Foundation's Process: the cluster starts while
    /// holding a lock that other tests wait on, and `pg_ctl start` leaves a server running that
    /// must not keep any pipe of this process open (descriptors from 3 up are closed).
    @discardableResult
    private func run(_ tool: String, _ arguments: [String], asServerUser: Bool = true) throws(Failure) -> String {
        let argv = asServerUser && asPostgresUser ? ["/usr/sbin/runuser", "-u", "postgres", "--", tool] + arguments : [tool] + arguments
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-pg-out-\(UUID().uuidString)").path
        defer { unlink(outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else of this process may leak into the child: `pg_ctl start` leaves a server
        // running for the whole test run, and an inherited pipe end (another test's child's
        // stdin) would keep that pipe open, so its reader would never see the end.
        Self.closeInheritedDescriptors(&actions)
        var cArguments = argv.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, &cArguments, environ)
        guard spawned == 0 else { throw Failure(description: "cannot run \(argv[0]): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        let exited = (status & 0x7f) == 0
        let code = (status >> 8) & 0xff
        guard exited && code == 0 else {
            let log = (try? String(contentsOfFile: folder + "/server.log", encoding: .utf8)) ?? ""
            throw Failure(description: "\((tool as NSString).lastPathComponent) \(arguments.joined(separator: " ")) failed (status \(status)): \(text)\(log.isEmpty ? "" : "\nserver log:\n" + log)")
        }
        return text
    }

    /// Closes every descriptor from 3 up in the child, atomically at the spawn: a listing of
    /// this process's descriptors taken before the spawn missed the ones other tests' threads
    /// opened meanwhile, and a child holding the socket Foundation's `Process` watches for a
    /// test's `sluice` to exit kept that wait spinning forever (the watchdog, which lives as
    /// long as the tests, held one).
    private static func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) {
        if let closeFrom = addCloseFrom {
            _ = closeFrom(&actions, 3)
            return
        }
        // Without glibc 2.34's closefrom action: every descriptor open now.
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for descriptor in open.compactMap(Int32.init) where descriptor > 2 {
            posix_spawn_file_actions_addclose(&actions, descriptor)
        }
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), which Swift's Glibc
    /// module does not declare.
    private static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    /// A port nobody listens on now: bound on 127.0.0.1 with port 0, read back, released.
    private static func freePort() throws(Failure) -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "cannot open a socket to find a free port") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw Failure(description: "cannot bind 127.0.0.1:0 to find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
