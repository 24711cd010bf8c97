import Foundation
import SluiceFakeServices

/// A keep-alive TCP connection a test writes to byte by byte and reads with a deadline: to see
/// whether, and when, the server closes a connection it should not keep (idle, slow headers,
/// a stalled body, after a refusal).
final class HeldConnection {
    private let descriptor: Int32
    private(set) var received: [UInt8] = []

    init(port: Int) throws {
        descriptor = try LoopbackSocket.open(port: port)
    }

    deinit { close(descriptor) }

    /// Sends `text`; false when the server has already closed the connection.
    @discardableResult
    func send(_ text: String) -> Bool {
        (try? LoopbackSocket.sendAll(Array(text.utf8), to: descriptor)) != nil
    }

    func send(_ bytes: [UInt8]) -> Bool {
        (try? LoopbackSocket.sendAll(bytes, to: descriptor)) != nil
    }

    /// Reads until the server closes the connection or `seconds` pass; true when it closed.
    /// Polls without blocking and sleeps with `Task.sleep` in between, so the wait holds none of
    /// the cooperative pool's threads (an in-process server under test needs them).
    func waitForClose(within seconds: Double) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        var buffer = [UInt8](repeating: 0, count: 65536)
        while Date() < deadline {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 0) > 0 else {
                try await Task.sleep(for: .milliseconds(5))
                continue
            }
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count <= 0 { return true }
            received += buffer[0..<count]
        }
        return false
    }

    var text: String { String(decoding: received, as: UTF8.self) }
}
