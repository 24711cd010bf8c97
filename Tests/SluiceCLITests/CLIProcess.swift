import Foundation

/// Runs the built `sluice` executable as a user would, capturing what it prints and its exit code.
struct CLIProcess {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The `sluice` binary built beside the test bundle.
    static var executable: URL {
        get throws {
            var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            for _ in 0..<4 {
                let candidate = folder.appendingPathComponent("sluice")
                if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
                folder = folder.deletingLastPathComponent()
            }
            let fallback = repository.appendingPathComponent(".build/debug/sluice")
            guard FileManager.default.isExecutableFile(atPath: fallback.path) else {
                throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: fallback.path])
            }
            return fallback
        }
    }

    /// Runs `sluice arguments…` in `directory` (the repository by default) with `environment` added.
    static func run(
        _ arguments: [String], in directory: URL = repository, environment: [String: String] = [:]
    ) throws -> Result {
        let process = Process()
        process.executableURL = try executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        // The developer's own keys and settings must not change what a test sees.
        var env = ProcessInfo.processInfo.environment.filter { name, _ in
            !name.hasPrefix("SLUICE_") && !name.hasSuffix("_API_KEY") && !name.hasSuffix("_BASE_URL")
                && !["GOOGLE_CSE_ID", "SEARXNG_URL", "NO_COLOR"].contains(name)
        }
        env.merge(environment) { $1 }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read both pipes to the end before waiting, so a large output cannot block the child.
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self)
        )
    }
}

extension CLIProcess {
    /// A `sluice` process still running, with its output collected as it comes.
    final class Running: @unchecked Sendable {
        // Safe: `collected` is only touched under `lock`; `process` is used from the test's thread.
        let process: Process
        private let lock = NSLock()
        private var collected = Data()

        init(process: Process, output: Pipe) {
            self.process = process
            output.fileHandleForReading.readabilityHandler = { [weak self] handle in
                let data = handle.availableData
                guard let self, !data.isEmpty else { return }
                self.lock.lock()
                self.collected.append(data)
                self.lock.unlock()
            }
        }

        var stdout: String {
            lock.lock()
            defer { lock.unlock() }
            return String(decoding: collected, as: UTF8.self)
        }

        /// Polls until stdout contains `text`; false when `timeout` seconds pass first.
        func waitForOutput(containing text: String, timeout: Double) -> Bool {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if stdout.contains(text) { return true }
                if !process.isRunning { return stdout.contains(text) }
                Thread.sleep(forTimeInterval: 0.01)
            }
            return false
        }

        /// The exit status, or nil (after killing the process) when it outlives `timeout` seconds.
        func waitForExit(timeout: Double) -> Int32? {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
            guard !process.isRunning else {
                process.terminate()
                return nil
            }
            // Let the readability handler drain what the process wrote last.
            Thread.sleep(forTimeInterval: 0.2)
            return process.terminationStatus
        }
    }

    /// Starts `sluice arguments…` in the repository and returns at once.
    static func start(_ arguments: [String]) throws -> Running {
        let process = Process()
        process.executableURL = try executable
        process.arguments = arguments
        process.currentDirectoryURL = repository
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        let running = Running(process: process, output: output)
        try process.run()
        return running
    }
}
