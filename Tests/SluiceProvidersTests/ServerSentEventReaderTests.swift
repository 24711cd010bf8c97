import Testing

@testable import SluiceProviders

@Suite("Server-sent event reader")
struct ServerSentEventReaderTests {
    struct Case: Sendable, CustomStringConvertible {
        var description: String
        var stream: String
        var expected: [ServerSentEvent]
    }

    static let cases: [Case] = [
        Case(description: "one event", stream: "data: hi\n\n", expected: [ServerSentEvent(data: "hi")]),
        Case(description: "multi-line data", stream: "data: a\ndata: b\n\n", expected: [ServerSentEvent(data: "a\nb")]),
        Case(description: "CRLF line ends", stream: "data: a\r\ndata: b\r\n\r\n", expected: [ServerSentEvent(data: "a\nb")]),
        Case(description: "CR line ends", stream: "data: a\rdata: b\r\r", expected: [ServerSentEvent(data: "a\nb")]),
        Case(description: "comments are ignored", stream: ": keep-alive\ndata: x\n\n", expected: [ServerSentEvent(data: "x")]),
        Case(description: "event names", stream: "event: message_start\ndata: {}\n\n", expected: [ServerSentEvent(type: "message_start", data: "{}")]),
        Case(description: "only one space after the colon is dropped", stream: "data:  two\n\n", expected: [ServerSentEvent(data: " two")]),
        Case(description: "no space after the colon", stream: "data:tight\n\n", expected: [ServerSentEvent(data: "tight")]),
        Case(description: "an event without data is not dispatched", stream: "event: ping\n\ndata: x\n\n", expected: [ServerSentEvent(data: "x")]),
        Case(description: "empty data is dispatched", stream: "data\n\n", expected: [ServerSentEvent(data: "")]),
        Case(description: "ids carry over", stream: "id: 7\ndata: a\n\ndata: b\n\n", expected: [ServerSentEvent(data: "a", lastEventID: "7"), ServerSentEvent(data: "b", lastEventID: "7")]),
        Case(description: "a leading BOM is dropped", stream: "\u{FEFF}data: x\n\n", expected: [ServerSentEvent(data: "x")]),
        Case(description: "an unterminated event is discarded", stream: "data: a\n\ndata: b", expected: [ServerSentEvent(data: "a")]),
        Case(description: "unknown fields are ignored", stream: "foo: bar\ndata: x\n\n", expected: [ServerSentEvent(data: "x")]),
    ]

    @Test(arguments: cases)
    func readsWholeStreams(_ example: Case) {
        var reader = ServerSentEventReader()
        #expect(reader.feed(Array(example.stream.utf8)) == example.expected)
    }

    @Test(arguments: cases)
    func readsTheSameByteByByte(_ example: Case) {
        var reader = ServerSentEventReader()
        var events: [ServerSentEvent] = []
        for byte in example.stream.utf8 { events += reader.feed([byte]) }
        #expect(events == example.expected)
    }

    @Test func keepsTheRetryTime() {
        var reader = ServerSentEventReader()
        _ = reader.feed(Array("retry: 1500\nretry: soon\n\n".utf8))
        #expect(reader.retry == 1500)
    }
}
