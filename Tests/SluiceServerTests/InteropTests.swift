import Foundation
import SluiceTesting
import Testing

/// The official MCP Python SDK (`mcp`, pinned in `.ci/run`) drives a real `sluice serve`
/// pinned to 2026-07-28 and in legacy mode, over HTTP and stdio (Tests/interop/mcp_interop.py):
/// an independent client, so a misreading of the spec shared by the server and our own test
/// client cannot pass.
///
/// Runs when the Python named by `SLUICE_PYTHON` (else `python3`) can import `mcp`; with
/// `CI=true` a missing SDK is a failure, not a skip.
@Suite(.timeLimit(.minutes(5))) struct InteropTests {
    static let python = ProcessInfo.processInfo.environment["SLUICE_PYTHON"] ?? "python3"
    static let inCI = ProcessInfo.processInfo.environment["CI"] == "true"

    /// Whether `python` imports `mcp` (checked once).
    static let sdkAvailable: Bool = {
        guard let (status, _) = try? run([python, "-c", "import mcp.client"]) else { return false }
        return status == 0
    }()

    @Test(.enabled(if: sdkAvailable || inCI, "the MCP Python SDK is not installed (pip install mcp==2.3.0; CI installs it)"))
    func thePythonSDKDrivesBothRevisions() async throws {
        try #require(Self.sdkAvailable, "CI=true but \(Self.python) cannot import mcp: .ci/run must install mcp==2.3.0")
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-interop-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        let server = try await ServeProcess(home: home.path, delayMilliseconds: 0)
        defer { server.terminate() }
        let script = TestPaths.repository.appendingPathComponent("Tests/interop/mcp_interop.py").path
        let executable = try TestPaths.executable.path
        let (status, output) = try await OffThread.run { [home] in try Self.run(
            [Self.python, script, "--url", "http://127.0.0.1:\(server.port)/mcp", "--sluice", executable,
             "--plans", TestPaths.shippedPlans, "--corpus", TestPaths.corpus],
            environment: ["SLUICE_HOME": home.path]) }
        #expect(status == 0, "mcp_interop.py failed:\n\(output)\nserver stderr:\n\(server.stderr)")
    }

    /// Runs a program to its end; its status and its stdout and stderr together. Blocking: the
    /// test calls it through `OffThread`, off the cooperative pool.
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.currentDirectoryURL = TestPaths.repository
        process.environment = BuiltExecutable.testEnvironment(environment).environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        // Read before waiting: a full pipe would block the child forever.
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
