import Foundation

/// A real `sluice` process for the wire benchmark, measured from outside through `/proc`.
final class ServedProcess {
    let process: Process
    let port: Int

    /// Starts `sluice ARGUMENTS` and waits for its "serving … on http://127.0.0.1:PORT" line.
    init(executable: URL, arguments: [String], environment: [String: String], directory: URL) throws {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = environment
        process.currentDirectoryURL = directory
        let stderr = Pipe()
        process.standardError = stderr
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        self.process = process
        var text = ""
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let data = stderr.fileHandleForReading.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
            if let range = text.range(of: "on http://127.0.0.1:") {
                let digits = text[range.upperBound...].prefix { $0.isNumber }
                if let port = Int(digits), text[range.upperBound...].dropFirst(digits.count).first == " " {
                    self.port = port
                    // Keep draining stderr so the server never blocks on a full pipe.
                    let reader = stderr.fileHandleForReading
                    Thread.detachNewThread { while !reader.availableData.isEmpty {} }
                    return
                }
            }
        }
        process.terminate()
        throw BenchmarkFailure("sluice serve did not start: \(text)")
    }

    /// User plus system CPU seconds the process has used.
    var cpuSeconds: Double { Self.cpuSeconds(pid: process.processIdentifier) }

    /// The process's peak resident set (VmHWM), in MB.
    var peakRSSMegabytes: Double {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kilobytes / 1024
    }

    static func cpuSeconds(pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return 0 }
        // Fields after the command: state is field 3; utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    deinit { stop() }
}
