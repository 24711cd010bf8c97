import Foundation
import Testing

/// The in-process server harness itself: a test cancelled mid-way (its time limit) must fail
/// that test, not trap the whole test process. Cancelling a NIO server task while accepted
/// connections are still open or queued used to end in "Deinited NIOAsyncWriter without
/// calling finish()"; the harness now stops its server gracefully instead.
@Suite(.timeLimit(.minutes(1))) struct ServerHarnessTests {
    @Test func aCancelledTestStopsItsServerGracefullyAndClosesItsConnections() async throws {
        let ports = Mailbox<Int>()
        let test = Task {
            try await ServerHarness.withServer { port, _ in
                ports.put(port)
                try await Task.sleep(for: .seconds(600))
                return 0
            }
        }
        let port = try #require(await ports.take())
        let held = try (0..<8).map { _ in try HeldConnection(port: port) }
        held[0].send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        test.cancel()
        // The cancelled body's error comes out of `withServer`, after the server has stopped.
        let outcome = await test.result
        #expect(throws: CancellationError.self) { try outcome.get() }
        for connection in held {
            #expect(try await connection.waitForClose(within: 15), "a connection outlived the server")
        }
    }
}
