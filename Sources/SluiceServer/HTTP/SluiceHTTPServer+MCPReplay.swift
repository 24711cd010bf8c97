import SluiceEngine
import SluiceJSON
import SluiceRunLog
import SluiceStore

/// Resuming an MCP call stream (`GET /mcp` with `Last-Event-ID`) past its replay buffer: with a
/// durable store, the notifications the buffer has let go are rendered again from the run's
/// stored events, exactly as they were first sent, under their original ids.
extension SluiceHTTPServer {
    /// The events of `stream` after number `after`, then the live ones; nil when some of them
    /// can be neither replayed from the buffer nor rendered again from the store.
    ///
    /// - Throws: ``StoreError`` when the store cannot be read.
    func resume(_ stream: ResumableStream, after: Int) async throws(StoreError) -> AsyncStream<SSEEvent>? {
        if let events = stream.subscribe(after: after) { return events }
        guard let store = durableStore else { return nil }
        // The buffer may let more go while the store is read: then read again (a finished
        // stream lets nothing more go, so this ends).
        for _ in 0..<1000 {
            guard let origins = stream.missingOrigins(after: after),
                let regenerated = try await Self.render(origins, store: store)
            else { return nil }
            if let events = stream.subscribe(after: after, regenerated: regenerated) { return events }
        }
        return nil
    }

    /// The SSE events made again from their origins, under their ids; nil when a run event
    /// they were rendered from is not in the store.
    static func render(_ origins: [(id: String, origin: ResumableStream.Origin)], store: any RunStore) async throws(StoreError) -> [SSEEvent]? {
        var rendered: [RenderedOrigin] = []
        for case .rendered(let origin) in origins.map(\.origin) { rendered.append(origin) }
        var stored: [String: [Int: RunEvent]] = [:]
        for runID in Set(rendered.map(\.runID)) {
            let seqs = rendered.filter { $0.runID == runID }.map(\.seq)
            guard let low = seqs.min(), let high = seqs.max() else { continue }
            let events = try await store.events(runID: runID, after: low - 1, limit: high - low + 1)
            stored[runID] = Dictionary(events.map { ($0.seq, $0) }) { first, _ in first }
        }
        var result: [SSEEvent] = []
        for (id, origin) in origins {
            switch origin {
            case .kept(let event):
                result.append(event)
            case .rendered(let origin):
                guard let event = stored[origin.runID]?[origin.seq] else { return nil }
                let message: JSONRPCMessage
                if let progress = origin.progress, let token = origin.progressToken {
                    message = MCPEventRenderer.progressNotification(for: event, token: token, progress: progress, meta: nil)
                } else if let (_, log) = MCPEventRenderer.logNotification(for: event, meta: nil) {
                    message = log
                } else {
                    return nil
                }
                result.append(SSEEvent(id: id, event: "message", data: message.serialized))
            }
        }
        return result
    }
}
