import Foundation
import SluiceTesting

/// A real `sluice serve` process on 127.0.0.1 (an OS-assigned port), for tests that kill and
/// restart the server: offline providers with a slow simulated model, so a run is mid-way
/// when the test wants it to be.
///
/// `@unchecked Sendable`: `process` is set once in `init` and then only signalled and waited
/// on (Foundation's `Process` is thread-safe for that); the collected stderr is under a `Mutex`.
final class ServeProcess: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let port: Int
    private let process: Process
    /// What the server printed on stderr, for failure messages.
    private let errors = Locked("")

    /// Starts `sluice serve` with `home` as `SLUICE_HOME` and waits until it listens.
    ///
    /// - Parameters:
    ///   - offline: the simulated model and the corpus; else the services of `environment`.
    ///   - plans: the plans folder (the shipped plans by default).
    ///   - arguments: further options, e.g. `["--documents", folder]`.
    ///   - directory: the working directory (the repository by default).
    init(
        home: String, delayMilliseconds: Int = 50, offline: Bool = true, plans: String = TestPaths.shippedPlans,
        arguments: [String] = [], environment: [String: String] = [:], directory: URL = TestPaths.repository
    ) async throws {
        let process = Process()
        process.executableURL = try TestPaths.executable
        // A short grace: a server draining a run that waits for an answer keeps `stop()`
        // waiting for the default 30 s. A test that needs a longer drain passes its own
        // `--grace` (the last one given wins).
        var options = ["serve", "--port", "0", "--plans", plans, "--grace", "2"]
        if offline { options += ["--offline", "--corpus", TestPaths.corpus, "--simulated-delay-ms", String(delayMilliseconds)] }
        process.arguments = options + arguments
        process.currentDirectoryURL = directory
        process.environment = BuiltExecutable.testEnvironment(environment.merging(["SLUICE_HOME": home]) { $1 }).environment
        let stderr = Pipe()
        process.standardError = stderr
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        let errors = self.errors
        let reader = stderr.fileHandleForReading
        let ports = Mailbox<Int>()
        // Collects stderr until the process ends; hands over the port of the "serving" line.
        Thread.detachNewThread {
            var announced = false
            while true {
                let data = reader.availableData
                if data.isEmpty { break }
                let text = errors.withLock { errors in
                    errors += String(decoding: data, as: UTF8.self)
                    return errors
                }
                if !announced, let port = Self.port(in: text) {
                    announced = true
                    ports.put(port)
                }
            }
            ports.close()
        }
        try process.run()
        self.process = process
        guard let port = await ports.take() else {
            throw Failure(description: "sluice serve did not start: \(errors.withLock { $0 })")
        }
        self.port = port
    }

    /// The port of `sluice: serving N plans on http://127.0.0.1:PORT (MCP at /mcp)`.
    private static func port(in text: String) -> Int? {
        guard let range = text.range(of: "on http://127.0.0.1:") else { return nil }
        let digits = text[range.upperBound...].prefix { $0.isNumber }
        guard text[range.upperBound...].dropFirst(digits.count).first == " " else { return nil }
        return Int(digits)
    }

    var stderr: String { errors.withLock { $0 } }

    /// The process id (a store's run owner is `pid@host`).
    var pid: Int32 { process.processIdentifier }

    /// SIGKILL: no handler runs, nothing is drained or flushed. Waits for the end on a thread
    /// of its own (`OffThread`), not on one of the cooperative pool's few threads.
    func kill() async {
        Foundation.kill(process.processIdentifier, SIGKILL)
        await OffThread.waitForExit(process)
    }

    /// SIGTERM, then waits (off the cooperative pool) for the process to end: for a test that
    /// starts another server on the same home or reads what this one left.
    func stop() async {
        guard process.isRunning else { return }
        process.terminate()
        await OffThread.waitForExit(process)
    }

    /// SIGTERM without waiting, for a `defer` (which cannot `await`) at the end of a test that
    /// needs nothing from the server after it.
    func terminate() {
        if process.isRunning { process.terminate() }
    }

    /// Last resort for a server a test left running: SIGKILL, not waited for (Foundation reaps
    /// the child), so a release on a cooperative thread does not block it.
    deinit {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
    }
}
