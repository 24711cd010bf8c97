import NIOCore
import Synchronization

/// The bytes of an SSE response waiting for its writer: producers (the formatting task, the
/// heartbeat) append, the one writer takes everything appended so far in one piece.
///
/// It replaces a stream of chunks, one element each: there, every event was its own write,
/// flush, `writev` and TCP segment, and its own wakeup of the writer. Here the events a run
/// delivers together (a batch from its bus: the text of parallel steps, lifecycle events) and
/// whatever arrives while a write is under way go out as one write. Nothing waits for more
/// to come: an idle writer is woken by the first byte.
final class SSEMailbox: Sendable {
    private struct State {
        var pending = ByteBuffer()
        var finished = false
        /// The writer waiting in ``next()``.
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    /// Adds `bytes` after everything pending, waking the writer if it waits. Ignored after ``finish()``.
    func append(_ bytes: [UInt8]) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.finished else { return nil }
            state.pending.writeBytes(bytes)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// No more bytes: ``next()`` returns what is pending, then nil.
    func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Everything appended since the last call, waiting for the first byte when there is none;
    /// nil once finished and drained, or when the waiting task is cancelled.
    func next() async -> ByteBuffer? {
        while true {
            switch take() {
            case .bytes(let buffer): return buffer
            case .finished: return nil
            case .wait: break
            }
            if Task.isCancelled { return nil }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let wake = state.withLock { state in
                        // Checked under the lock: a cancellation after it finds the waiter.
                        if state.pending.readableBytes > 0 || state.finished || Task.isCancelled { return true }
                        state.waiter = continuation
                        return false
                    }
                    if wake { continuation.resume() }
                }
            } onCancel: {
                let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                    defer { state.waiter = nil }
                    return state.waiter
                }
                waiter?.resume()
            }
        }
    }

    private enum Taken {
        case bytes(ByteBuffer)
        case finished
        case wait
    }

    private func take() -> Taken {
        state.withLock { state in
            if state.pending.readableBytes > 0 {
                var taken = ByteBuffer()
                swap(&taken, &state.pending)
                return .bytes(taken)
            }
            return state.finished ? .finished : .wait
        }
    }
}
