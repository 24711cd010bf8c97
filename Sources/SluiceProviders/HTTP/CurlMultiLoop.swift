private import CCurl
import Foundation
import Synchronization

/// Runs every transfer of one ``HTTPClient`` on one dedicated thread with libcurl's multi
/// interface, so no Swift task ever blocks on the network.
///
/// Other threads talk to the loop only through `inbox` (under a mutex) and `curl_multi_wakeup`,
/// which libcurl documents as callable from any thread. Connections stay in the multi handle's
/// pool between transfers, so a second call to the same host reuses the first one's connection.
final class CurlMultiLoop: @unchecked Sendable {
    // @unchecked: `multi`, `active` and `lastRound` are used only on the loop thread (after `init` hands
    // them over); `inbox` is a Mutex; `curl_multi_wakeup` is thread-safe.
    private struct Inbox {
        var added: [CurlTransfer] = []
        var cancelled: [CurlTransfer] = []
        var shuttingDown = false
    }

    private static let globalInit: Void = {
        // Must run once per process before any other libcurl call.
        _ = curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    }()

    private let multi: UnsafeMutableRawPointer
    private let inbox = Mutex(Inbox())
    private var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]
    /// The longest the loop sleeps without a deadline or wakeup; bounds deadline jitter.
    private let maxPoll = 250
    /// The shortest time between two rounds of reading while traffic flows. A model streams a
    /// token every few milliseconds on each of many connections; reading each as it lands costs
    /// a wakeup of this thread, a read, a parse and a wakeup of the reading task per token. In a
    /// round at most this often, what a connection received meanwhile is read and handed on as
    /// one chunk. A response waits at most this long more; an idle loop reads at once.
    private static let minimumRound: Duration = .milliseconds(5)
    private var lastRound = ContinuousClock.now

    init() {
        Self.globalInit
        guard let multi = curl_multi_init() else { fatalError("libcurl could not create a multi handle (out of memory)") }
        self.multi = multi
        _ = sluice_curl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, 0)
        let thread = Thread { [self] in run() }
        thread.name = "sluice.http"
        thread.stackSize = 1 << 20
        thread.start()
    }

    func add(_ transfer: CurlTransfer) {
        inbox.withLock { $0.added.append(transfer) }
        curl_multi_wakeup(multi)
    }

    func cancel(_ transfer: CurlTransfer) {
        transfer.cancelRequested.store(true, ordering: .sequentiallyConsistent)
        inbox.withLock { $0.cancelled.append(transfer) }
        curl_multi_wakeup(multi)
    }

    /// Stops the thread after failing every transfer still running.
    func shutdown() {
        inbox.withLock { $0.shuttingDown = true }
        curl_multi_wakeup(multi)
    }

    private func run() {
        while true {
            let (added, cancelled, shuttingDown) = inbox.withLock { inbox in
                defer { inbox.added = []; inbox.cancelled = [] }
                return (inbox.added, inbox.cancelled, inbox.shuttingDown)
            }
            let now = ContinuousClock.now
            for transfer in added {
                if transfer.cancelRequested.load(ordering: .sequentiallyConsistent) {
                    transfer.finish(CancellationError())
                } else if curl_multi_add_handle(multi, transfer.easy) == CURLM_OK {
                    active[transfer.easy] = transfer
                    transfer.didStart(at: now)
                } else {
                    transfer.finish(HTTPClientError(.invalidRequest, "libcurl refused the transfer to \(transfer.request.hostForMessages)"))
                }
            }
            for transfer in cancelled where active[transfer.easy] === transfer {
                remove(transfer, error: CancellationError())
            }
            if shuttingDown {
                for transfer in Array(active.values) {
                    remove(transfer, error: HTTPClientError(.network, "the HTTP client was shut down"))
                }
                curl_multi_cleanup(multi)
                return
            }
            let sinceLastRound = ContinuousClock.now - lastRound
            if sinceLastRound < Self.minimumRound {
                let (seconds, attoseconds) = (Self.minimumRound - sinceLastRound).components
                usleep(UInt32(seconds * 1_000_000 + attoseconds / 1_000_000_000_000))
            }
            lastRound = .now
            var running: Int32 = 0
            _ = curl_multi_perform(multi, &running)
            collectFinished()
            let waitMilliseconds = enforceDeadlines(now: .now)
            _ = curl_multi_poll(multi, nil, 0, Int32(waitMilliseconds), nil)
        }
    }

    private func collectFinished() {
        var queued: Int32 = 0
        while let message = curl_multi_info_read(multi, &queued) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
                let transfer = active[easy]
            else { continue }
            let result = sluice_curl_message_result(message)
            active[easy] = nil
            curl_multi_remove_handle(multi, easy)
            transfer.complete(Int(result.rawValue))
        }
    }

    /// Fails overdue transfers; returns how long the loop may sleep before the next deadline.
    private func enforceDeadlines(now: ContinuousClock.Instant) -> Int {
        var wait = maxPoll
        var overdue: [(CurlTransfer, HTTPClientError.Kind)] = []
        for transfer in active.values {
            guard let (deadline, kind) = transfer.deadline() else { continue }
            if deadline <= now {
                overdue.append((transfer, kind))
            } else {
                wait = min(wait, CurlTransfer.milliseconds(deadline - now))
            }
        }
        for (transfer, kind) in overdue { remove(transfer, error: transfer.timeoutError(kind)) }
        var curlTimeout = -1
        _ = curl_multi_timeout(multi, &curlTimeout)
        if curlTimeout >= 0 { wait = min(wait, curlTimeout) }
        return max(wait, 0)
    }

    private func remove(_ transfer: CurlTransfer, error: any Error) {
        active[transfer.easy] = nil
        curl_multi_remove_handle(multi, transfer.easy)
        transfer.finish(error)
    }
}
