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
        ResponseBody { writer in
            let (chunks, output) = AsyncStream.makeStream(of: [UInt8].self)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await event in events {
                        if let text = format(event) { output.yield(text) }
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
                        output.yield(Array(SSEEvent.comment("heartbeat").utf8))
                    }
                }
                defer { group.cancelAll() }
                for await chunk in chunks {
                    try await writer.write(ByteBuffer(bytes: chunk))
                }
            }
            try await writer.finish(nil)
        }
    }

    static var headers: HTTPFields {
        [.contentType: "text/event-stream", .cacheControl: "no-cache"]
    }
}
