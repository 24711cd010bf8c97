/// Sends HTTP requests through libcurl without blocking Swift's cooperative thread pool.
///
/// Every transfer of a client runs on the client's own network thread (libcurl's multi
/// interface); callers suspend until the response head arrives and then read the body as an
/// async sequence of byte chunks as they come off the wire. Connections are reused, HTTP/2 is
/// used where a TLS server offers it, certificates are verified, and libcurl honours the usual
/// proxy variables (`https_proxy`, `http_proxy`, `no_proxy`).
///
/// ```swift
/// let response = try await HTTPClient.shared.stream(HTTPRequest(method: .post, url: url, body: body))
/// for try await chunk in response.body { parser.feed(chunk) }
/// ```
///
/// Cancelling the calling task (or dropping an unread body) aborts the transfer at once.
///
/// #### Errors
/// ``HTTPClientError`` for transport failures and timeouts, `CancellationError` on cancellation.
/// A response with an error status is not an error here: check ``HTTPResponseHead/status``.
public final class HTTPClient: Sendable {
    /// The process-wide client; its connection pool is shared by every provider.
    public static let shared = HTTPClient()

    private let loop = CurlMultiLoop()

    public init() {}

    deinit {
        loop.shutdown()
    }

    /// Starts `request` and returns once the response head has arrived.
    public func stream(_ request: HTTPRequest) async throws -> HTTPStreamingResponse {
        try Task.checkCancellation()
        let transfer = try CurlTransfer(request)
        let loop = self.loop
        let head = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                transfer.awaitHead(continuation)
                loop.add(transfer)
            }
        } onCancel: {
            loop.cancel(transfer)
        }
        return HTTPStreamingResponse(head: head, body: HTTPBody(transfer: transfer, loop: loop))
    }

    /// Sends `request` and collects the whole body.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let response = try await stream(request)
        var body: [UInt8] = []
        for try await chunk in response.body { body += chunk }
        return HTTPResponse(head: response.head, body: body)
    }
}

/// A response whose body is still arriving.
public struct HTTPStreamingResponse: Sendable {
    public let head: HTTPResponseHead
    public let body: HTTPBody
}

/// The chunks of a response body as they arrive. Iterate it once.
///
/// Ending the iteration early, dropping the body, or cancelling the iterating task aborts the
/// transfer; cancellation makes `next()` throw `CancellationError`.
public struct HTTPBody: AsyncSequence, Sendable {
    public typealias Element = [UInt8]
    let lease: TransferLease

    init(transfer: CurlTransfer, loop: CurlMultiLoop) {
        lease = TransferLease(transfer: transfer, loop: loop)
        // Weak: the transfer owns this stream, so a strong capture is a cycle. The stream drops
        // its handler when it finishes, but not one set after it finished (a short response
        // can end on the loop thread before this runs), and then every such transfer, with
        // its libcurl handle and request body, stayed for the life of the process.
        transfer.bodyContinuation.onTermination = { [weak transfer] termination in
            if case .cancelled = termination, let transfer { loop.cancel(transfer) }
        }
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<[UInt8], any Error>.AsyncIterator
        // Keeps the transfer alive while the body is read, and aborts it once nobody reads.
        let lease: TransferLease

        public mutating func next() async throws -> [UInt8]? {
            let chunk = try await base.next()
            if chunk == nil, Task.isCancelled { throw CancellationError() }
            return chunk
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: lease.transfer.body.makeAsyncIterator(), lease: lease)
    }
}

/// Aborts its transfer when the last copy of the body (or its iterator) goes away, so a
/// response dropped half-read stops downloading instead of buffering to the end.
final class TransferLease: Sendable {
    let transfer: CurlTransfer
    let loop: CurlMultiLoop

    init(transfer: CurlTransfer, loop: CurlMultiLoop) {
        self.transfer = transfer
        self.loop = loop
    }

    deinit {
        // Harmless when the transfer has already finished: the loop ignores transfers it no longer runs.
        loop.cancel(transfer)
    }
}
