import Synchronization

/// A queue one side fills and the other awaits; `take` returns nil once closed and drained.
final class Mailbox<Element: Sendable>: Sendable {
    private struct State {
        var items: [Element] = []
        var waiters: [CheckedContinuation<Element?, Never>] = []
        var closed = false
    }

    private let state = Mutex(State())

    func put(_ item: Element) {
        let waiter = state.withLock { state -> CheckedContinuation<Element?, Never>? in
            guard !state.closed else { return nil }
            if !state.waiters.isEmpty { return state.waiters.removeFirst() }
            state.items.append(item)
            return nil
        }
        waiter?.resume(returning: item)
    }

    func close() {
        let waiters = state.withLock { state in
            state.closed = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: nil) }
    }

    func take() async -> Element? {
        await withCheckedContinuation { continuation in
            let ready: (Element?, Bool) = state.withLock { state in
                if !state.items.isEmpty { return (state.items.removeFirst(), true) }
                if state.closed { return (nil, true) }
                state.waiters.append(continuation)
                return (nil, false)
            }
            if ready.1 { continuation.resume(returning: ready.0) }
        }
    }
}

/// A value shared between threads, behind a lock.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) {
        mutex = Mutex(value)
    }

    func withLock<T>(_ body: (inout Value) -> T) -> T {
        mutex.withLock { body(&$0) }
    }
}
