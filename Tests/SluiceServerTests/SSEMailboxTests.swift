import NIOCore
import Testing
@testable import SluiceServer

/// The bytes an SSE response waits to write: what was appended while the writer was busy goes
/// out in one piece, in order; the end and a cancelled writer are told apart from "wait".
@Suite struct SSEMailboxTests {
    @Test func whatWaitsGoesOutAsOneWriteInOrder() async {
        let mailbox = SSEMailbox()
        mailbox.append(Array("data: 1\n\n".utf8))
        mailbox.append(Array("data: 2\n\n".utf8))
        mailbox.append(Array(": heartbeat\n\n".utf8))
        let first = await mailbox.next()
        #expect(first.map { String(buffer: $0) } == "data: 1\n\ndata: 2\n\n: heartbeat\n\n")
        mailbox.append(Array("data: 3\n\n".utf8))
        mailbox.finish()
        mailbox.append(Array("data: late\n\n".utf8))
        let second = await mailbox.next()
        #expect(second.map { String(buffer: $0) } == "data: 3\n\n", "what came before the end is written; nothing after it")
        let end = await mailbox.next()
        #expect(end == nil)
    }

    @Test func aWaitingWriterIsWokenByTheFirstBytes() async {
        let mailbox = SSEMailbox()
        async let received = mailbox.next()
        // The writer may or may not be waiting yet: either way it gets these bytes.
        mailbox.append(Array("data: x\n\n".utf8))
        let bytes = await received
        #expect(bytes.map { String(buffer: $0) } == "data: x\n\n")
    }

    @Test func aCancelledWriterStopsWaiting() async {
        let mailbox = SSEMailbox()
        let writer = Task { await mailbox.next() }
        writer.cancel()
        let result = await writer.value
        #expect(result == nil)
    }
}
