import Hummingbird
import NIOCore

/// SSE response bodies: events as they come, a comment heartbeat while idle.
enum SSEBody {
    /// A body streaming `events` (already formatted), with a `: heartbeat` comment every
    /// `heartbeat` so proxies and clients keep an idle stream open. Ends when `events` ends or
    /// the client goes away (a failed write ends it; the run behind it goes on).
    static func make<Element: Sendable>(
        _ events: AsyncStream<Element>, heartbeat: Duration, format: @escaping @Sendable (Element) -> [UInt8]?
    ) -> ResponseBody {
        ResponseBody { writer in try await write(events, heartbeat: heartbeat, format: format, to: &writer) }
    }

    private static func write<Element: Sendable>(
        _ events: AsyncStream<Element>, heartbeat: Duration, format: @escaping @Sendable (Element) -> [UInt8]?,
        to writer: inout any ResponseBodyWriter
    ) async throws {
        // What is formatted while a write is under way goes out with the next one (see SSEMailbox).
        let output = SSEMailbox()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await event in events {
                    if let bytes = format(event) { output.append(bytes) }
                }
                output.finish()
            }
            group.addTask {
                while !Task.isCancelled {
                    do {
                        try await Task.sleep(for: heartbeat)
                    } catch {
                        return
                    }
                    output.append(Array(SSEEvent.comment("heartbeat").utf8))
                }
            }
            defer { group.cancelAll() }
            while let bytes = await output.next() {
                try await writer.write(bytes)
            }
        }
        try await writer.finish(nil)
    }

    static var headers: HTTPFields {
        [.contentType: "text/event-stream", .cacheControl: "no-cache"]
    }
}

extension SSEBody {
    /// A body whose events `produce` yields while it runs, inside the response: when the client
    /// goes away the write fails and `produce` is cancelled with it (a 2026-07-28 request's
    /// stream closing is its cancellation). The stream ends when `produce` returns.
    static func producing(
        heartbeat: Duration, _ produce: @escaping @Sendable (AsyncStream<SSEEvent>.Continuation) async -> Void
    ) -> ResponseBody {
        let (events, continuation) = AsyncStream.makeStream(of: SSEEvent.self)
        return ResponseBody { writer in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    await produce(continuation)
                    continuation.finish()
                }
                defer { group.cancelAll() }
                try await write(events, heartbeat: heartbeat, format: { $0.bytes }, to: &writer)
                try await group.waitForAll()
            }
        }
    }
}
