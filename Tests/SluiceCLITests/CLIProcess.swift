import Foundation
import SluiceTesting

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
        get throws { try BuiltExecutable.sluice(repository: repository) }
    }

    /// Runs `sluice arguments…` in `directory` (the repository by default) with `environment` added.
    ///
    /// Async: the pipe reads and the wait for the exit happen on a thread of their own
    /// (`OffThread`), never on one of the cooperative pool's few threads, which the tests
    /// running in parallel (and the servers they start) need.
    static func run(
        _ arguments: [String], in directory: URL = repository, environment: [String: String] = [:]
    ) async throws -> Result {
        let process = Process()
        process.executableURL = try executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        let (env, scratchHome) = BuiltExecutable.testEnvironment(environment)
        defer { scratchHome.map { try? FileManager.default.removeItem(at: $0) } }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read both pipes to the end (each on its own thread, so a full stderr pipe cannot stall
        // the child while stdout is read), then wait for the exit.
        let outReader = out.fileHandleForReading
        let errReader = err.fileHandleForReading
        async let outData = OffThread.run { outReader.readDataToEndOfFile() }
        async let errData = OffThread.run { errReader.readDataToEndOfFile() }
        let (stdout, stderr) = await (outData, errData)
        let status = await OffThread.waitForExit(process)
        return Result(
            status: status,
            stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self)
        )
    }
}

extension CLIProcess {
    /// A `sluice` process still running, with its stdout collected as it comes.
    final class Running: @unchecked Sendable {
        // Safe: `collected` is only touched under `lock`; `process` is only signalled and waited
        // on (which Foundation's `Process` supports from any thread).
        private let process = Process()
        private let lock = NSLock()
        private var collected = Data()
        /// Text that, once on stdout, makes the reader thread send a signal (`signal(_:onceOutputContains:)`).
        private var trigger: (text: String, signal: Int32)?
        private let ended = DispatchSemaphore(value: 0)
        private let scratchHome: URL?
        /// Where stderr goes (a file, not a pipe nobody reads, which would fill and block the
        /// process), so a test's failure can say why a process exited as it did.
        private let stderrFile: URL

        init(_ arguments: [String], environment: [String: String]) throws {
            process.executableURL = try CLIProcess.executable
            process.arguments = arguments
            process.currentDirectoryURL = CLIProcess.repository
            let (env, scratchHome) = BuiltExecutable.testEnvironment(environment)
            self.scratchHome = scratchHome
            process.environment = env
            let output = Pipe()
            process.standardOutput = output
            stderrFile = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-stderr-\(UUID().uuidString)")
            guard FileManager.default.createFile(atPath: stderrFile.path, contents: nil),
                let errorOutput = FileHandle(forWritingAtPath: stderrFile.path)
            else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: stderrFile.path]) }
            process.standardError = errorOutput
            process.standardInput = FileHandle.nullDevice
            // A reader thread collects stdout until end of file, so nothing written last is missed.
            let reader = output.fileHandleForReading
            Thread.detachNewThread { [self] in
                while true {
                    let data = reader.availableData
                    if data.isEmpty { break }
                    lock.lock()
                    collected.append(data)
                    if let trigger, String(decoding: collected, as: UTF8.self).contains(trigger.text) {
                        self.trigger = nil
                        Foundation.kill(process.processIdentifier, trigger.signal)
                    }
                    lock.unlock()
                }
                ended.signal()
            }
            try process.run()
        }

        /// Last resort for a test that ended without waiting: SIGTERM, not waited for.
        deinit {
            if process.isRunning { process.terminate() }
            scratchHome.map { try? FileManager.default.removeItem(at: $0) }
            try? FileManager.default.removeItem(at: stderrFile)
        }

        /// What the process wrote to stderr so far.
        var stderr: String {
            (try? String(contentsOf: stderrFile, encoding: .utf8)) ?? ""
        }

        var stdout: String {
            lock.lock()
            defer { lock.unlock() }
            return String(decoding: collected, as: UTF8.self)
        }

        /// Polls (with `Task.sleep`, holding no thread) until stdout contains `text`; false when
        /// `timeout` seconds pass first.
        func waitForOutput(containing text: String, timeout: Double) async throws -> Bool {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if stdout.contains(text) { return true }
                if !process.isRunning { return stdout.contains(text) }
                try await Task.sleep(for: .milliseconds(5))
            }
            return false
        }

        /// Sends `signal` as soon as stdout contains `text`, from the reader thread the moment it
        /// reads it: a test polling from a loaded cooperative pool could see the text too late,
        /// after the run had already finished.
        func signal(_ signal: Int32, onceOutputContains text: String) {
            lock.lock()
            defer { lock.unlock() }
            if String(decoding: collected, as: UTF8.self).contains(text) {
                Foundation.kill(process.processIdentifier, signal)
            } else {
                trigger = (text, signal)
            }
        }

        /// SIGKILL as soon as stdout contains `text` (see `signal(_:onceOutputContains:)`), then
        /// waits for the process and its output to end.
        func kill(onceOutputContains text: String) async {
            signal(SIGKILL, onceOutputContains: text)
            await OffThread.waitForExit(process)
            await readerEnded()
        }

        /// Waits (off the cooperative pool, at most 10 s) until the reader thread saw end of file.
        private func readerEnded() async {
            let ended = self.ended
            _ = await OffThread.run { ended.wait(timeout: .now() + 10) == .success }
        }

        /// The exit status, or nil (after terminating the process) when it outlives `timeout` seconds.
        func waitForExit(timeout: Double) async throws -> Int32? {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
            guard !process.isRunning else {
                process.terminate()
                return nil
            }
            await readerEnded()
            return await OffThread.waitForExit(process)
        }
    }

    /// Starts `sluice arguments…` in the repository and returns at once.
    static func start(_ arguments: [String], environment: [String: String] = [:]) throws -> Running {
        try Running(arguments, environment: environment)
    }
}
