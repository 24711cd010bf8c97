import Foundation
import SluiceJSON
import Synchronization

/// The `subscriptions/listen` streams open on this server (MCP 2026-07-28).
///
/// Sluice honours none of the change notifications a client can ask for: its tools are the
/// plans loaded at start and never change while it runs, and it has no prompts or resources.
/// A listen is still answered as the revision asks — acknowledged with the empty subset, kept
/// open, and ended with a completion result when the server shuts down — so a client that
/// listens by default neither fails nor mistakes a shutdown for a dropped connection.
final class MCPSubscriptions: Sendable {
    /// How a listen ended.
    enum End: Sendable {
        /// The client cancelled it (`notifications/cancelled`, a closed stream or stdin): no answer.
        case client
        /// The server ends it (shutdown): answered with a completion result.
        case server
    }

    private struct Listen {
        var session: String
        var request: String
        var user: String
        var waiter: CheckedContinuation<End, Never>?
        var ended: End?
    }

    private struct State {
        var listens: [UInt64: Listen] = [:]
        var nextNumber: UInt64 = 0
        var closed = false
    }

    private let state = Mutex(State())
    /// Listens one user may hold open at once (each holds a connection or a stdio slot).
    let perUser: Int

    init(perUser: Int) {
        self.perUser = perUser
    }

    static let subscriptionIDKey = "io.modelcontextprotocol/subscriptionId"

    /// Registers a listen; nil when `user` holds ``perUser`` already.
    func open(session: String, request: JSONValue, user: String) -> UInt64? {
        state.withLock { state in
            guard state.listens.values.filter({ $0.user == user }).count < perUser else { return nil }
            state.nextNumber += 1
            state.listens[state.nextNumber] = Listen(
                session: session, request: request.serialized(pretty: false), user: user, ended: state.closed ? .server : nil)
            return state.nextNumber
        }
    }

    /// Waits until listen `number` ends; a cancelled task (the HTTP client went away) ends it
    /// as the client's. The listen is forgotten when this returns.
    func wait(_ number: UInt64) async -> End {
        defer { _ = state.withLock { $0.listens.removeValue(forKey: number) } }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<End, Never>) in
                let ended = state.withLock { state -> End? in
                    if let ended = state.listens[number]?.ended { return ended }
                    if Task.isCancelled { return .client }
                    state.listens[number]?.waiter = continuation
                    return nil
                }
                if let ended { continuation.resume(returning: ended) }
            }
        } onCancel: {
            let target = number
            end(where: { candidate, _ in candidate == target }, as: .client)
        }
    }

    /// `notifications/cancelled` for `request` of `session` (stdio): ends that listen, unanswered.
    /// False when no listen has that id.
    @discardableResult
    func cancel(session: String, request: JSONValue) -> Bool {
        let key = request.serialized(pretty: false)
        return end(where: { _, listen in listen.session == session && listen.request == key }, as: .client) > 0
    }

    /// The session is gone (stdin closed): its listens end, unanswered.
    func closeSession(_ session: String) {
        end(where: { _, listen in listen.session == session }, as: .client)
    }

    /// Shutdown: every listen is answered with its completion and later ones end at once.
    func closeAll() {
        state.withLock { $0.closed = true }
        end(where: { _, _ in true }, as: .server)
    }

    var openCount: Int { state.withLock { $0.listens.count } }

    @discardableResult
    private func end(where matches: (UInt64, Listen) -> Bool, as end: End) -> Int {
        let (matched, waiters) = state.withLock { state -> (Int, [CheckedContinuation<End, Never>]) in
            var matched = 0
            var waiters: [CheckedContinuation<End, Never>] = []
            for (number, listen) in state.listens where listen.ended == nil && matches(number, listen) {
                matched += 1
                state.listens[number]?.ended = end
                if let waiter = listen.waiter { waiters.append(waiter) }
                state.listens[number]?.waiter = nil
            }
            return (matched, waiters)
        }
        for waiter in waiters { waiter.resume(returning: end) }
        return matched
    }
}
