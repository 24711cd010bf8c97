import Foundation
import SluiceTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The pretty view of a real `sluice run`: map items and their progress, and a confirm step's
/// question on a terminal (a pseudo-terminal here).
@Suite(.timeLimit(.minutes(2))) struct TerminalProcessTests {
    @Test func mapProgressCountsItemsWhoseWholeBodyFinished() async throws {
        let result = try await CLIProcess.run(["run", "news_report", "--offline", "--input", "task=AI agents"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        // The sections map's body is section_text, section, section_done: an item counts once
        // its section_done has ended, so every counter equals the section_done lines so far.
        var finished = 0
        var counters = 0
        for line in lines {
            if line.contains("✓ section_done [") { finished += 1 }
            guard let range = line.range(of: #"\(sections (\d+)/(\d+)\)"#, options: .regularExpression) else { continue }
            let counted = Int(line[range].dropFirst("(sections ".count).prefix { $0 != "/" })
            #expect(counted == finished, "\(line)")
            counters += 1
        }
        #expect(finished > 1)
        #expect(counters >= 3 * finished)
        // Items are numbered from 1 in the terminal ("item": 0 in events), as docs/events.md says.
        #expect(lines.contains { $0.contains("✓ section_done [1]") })
        #expect(!lines.contains { $0.contains("[0]") })
    }

    @Test func theLiveViewPausesWhileAConfirmStepAsks() async throws {
        let terminal = try PseudoTerminal()
        let process = Process()
        process.executableURL = try CLIProcess.executable
        process.arguments = ["run", "news_report", "--offline", "--no-store", "--input", "task=AI agents", "--input", "auto_confirm=false"]
        process.currentDirectoryURL = CLIProcess.repository
        process.environment = BuiltExecutable.testEnvironment(["SLUICE_HOME": "/nonexistent", "TERM": "xterm"]).environment
        process.standardInput = terminal.follower
        process.standardOutput = terminal.follower
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Only the child holds the follower now, so reads end when it exits.
        try terminal.follower.close()
        defer { if process.isRunning { process.terminate() } }
        let asked = try await terminal.waitForOutput(containing: "Approve? [Y/n] ", timeout: 60)
        #expect(asked)
        // The ticker redraws the live block every 250 ms while a step runs; paused, it must not.
        try await Task.sleep(for: .seconds(1))
        let afterQuestion = terminal.output.components(separatedBy: "Approve? [Y/n] ").last ?? ""
        #expect(afterQuestion.isEmpty, "written while asking: \(afterQuestion.debugDescription)")
        terminal.type("y\n")
        let ended = try await terminal.waitForOutput(containing: "✓ completed", timeout: 60)
        #expect(ended)
        #expect(await OffThread.waitForExit(process) == 0)
        // What was held while asking is drawn afterwards.
        let afterAnswer = terminal.output.components(separatedBy: "Approve? [Y/n] ").last ?? ""
        #expect(afterAnswer.contains("approve_outline"))
    }
}

/// A pseudo-terminal pair: the child gets the follower side as its stdin and stdout, so it
/// sees a TTY; the test reads what it draws and types answers on the leader side.
private final class PseudoTerminal: @unchecked Sendable {
    // Safe: `collected` is only touched under `lock`; the file descriptors are set once.
    private let leader: Int32
    let follower: FileHandle
    private let lock = NSLock()
    private var collected = Data()

    init() throws {
        var leader: Int32 = 0
        var follower: Int32 = 0
        guard openpty(&leader, &follower, nil, nil, nil) == 0 else { throw POSIXError(.ENXIO) }
        self.leader = leader
        self.follower = FileHandle(fileDescriptor: follower, closeOnDealloc: true)
        Thread.detachNewThread { [self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = read(self.leader, &buffer, buffer.count)
                // EIO once the child has exited and the follower is closed.
                if count <= 0 { break }
                lock.lock()
                collected.append(contentsOf: buffer[0..<count])
                lock.unlock()
            }
        }
    }

    var output: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: collected, as: UTF8.self)
    }

    func type(_ text: String) {
        _ = text.utf8CString.withUnsafeBufferPointer { write(leader, $0.baseAddress, text.utf8.count) }
    }

    /// Polls with `Task.sleep`, holding none of the cooperative pool's threads.
    func waitForOutput(containing text: String, timeout: Double) async throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if output.contains(text) { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return false
    }
}
