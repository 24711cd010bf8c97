private import CCurl
import Foundation
import Synchronization

/// One transfer: owns its easy handle, header list and error buffer, and turns libcurl's
/// callbacks into a response head (a continuation) and body chunks (a stream).
///
/// Threading: the handle is configured on the caller's thread before the transfer is handed
/// to ``CurlMultiLoop``; from then on every field but `cancelRequested` is touched only by the
/// loop's thread (callbacks run there, inside `curl_multi_perform`).
final class CurlTransfer: @unchecked Sendable {
    // @unchecked: see the threading note above; `cancelRequested` is atomic and the
    // continuations are themselves thread-safe.
    let easy: UnsafeMutableRawPointer
    let request: HTTPRequest
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer: UnsafeMutablePointer<CChar>

    private var headContinuation: CheckedContinuation<HTTPResponseHead, any Error>?
    let bodyContinuation: AsyncThrowingStream<[UInt8], any Error>.Continuation
    let body: AsyncThrowingStream<[UInt8], any Error>

    let cancelRequested = Atomic<Bool>(false)

    // Loop-thread state.
    private var statusLine: Int = 0
    private var headers: [HTTPHeader] = []
    private var headDelivered = false
    private(set) var started: ContinuousClock.Instant?
    private(set) var lastActivity: ContinuousClock.Instant?
    private var bytesReceived = 0
    /// An error raised inside a callback, reported instead of libcurl's generic code.
    private var callbackError: HTTPClientError?
    private var finished = false

    init(_ request: HTTPRequest) throws(HTTPClientError) {
        guard let easy = curl_easy_init() else {
            throw HTTPClientError(.invalidRequest, "libcurl could not create a transfer")
        }
        self.easy = easy
        self.request = request
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        (body, bodyContinuation) = AsyncThrowingStream.makeStream(of: [UInt8].self)
        try configure()
    }

    deinit {
        curl_easy_cleanup(easy)
        curl_slist_free_all(headerList)
        errorBuffer.deallocate()
    }

    /// Registers the continuation that receives the head (or the failure before it).
    func awaitHead(_ continuation: CheckedContinuation<HTTPResponseHead, any Error>) {
        headContinuation = continuation
    }

    private func configure() throws(HTTPClientError) {
        var failed: CURLcode = CURLE_OK
        func set(_ code: CURLcode) { if code != CURLE_OK, failed == CURLE_OK { failed = code } }
        let context = Unmanaged.passUnretained(self).toOpaque()
        set(sluice_curl_easy_setopt_string(easy, CURLOPT_URL, request.url))
        set(sluice_curl_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1))
        set(sluice_curl_easy_setopt_string(easy, CURLOPT_PROTOCOLS_STR, "http,https"))
        set(sluice_curl_easy_setopt_string(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https"))
        set(sluice_curl_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer))
        set(sluice_curl_easy_setopt_write_function(easy, CURLOPT_WRITEFUNCTION, curlTransferWrite))
        set(sluice_curl_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, context))
        set(sluice_curl_easy_setopt_write_function(easy, CURLOPT_HEADERFUNCTION, curlTransferHeader))
        set(sluice_curl_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, context))
        set(sluice_curl_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(request.timeouts.connect)))
        set(sluice_curl_easy_setopt_long(easy, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_2TLS)))
        set(sluice_curl_easy_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1))
        set(sluice_curl_easy_setopt_string(easy, CURLOPT_ACCEPT_ENCODING, ""))
        set(sluice_curl_easy_setopt_string(easy, CURLOPT_USERAGENT, "sluice/1"))
        set(sluice_curl_easy_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 1))
        set(sluice_curl_easy_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 2))
        set(sluice_curl_easy_setopt_long(easy, CURLOPT_FOLLOWLOCATION, request.followRedirects ? 1 : 0))
        set(sluice_curl_easy_setopt_long(easy, CURLOPT_MAXREDIRS, 5))
        if !request.addressPolicy.allowsEverything {
            set(sluice_curl_easy_setopt_opensocket_function(easy, curlTransferOpenSocket))
            set(sluice_curl_easy_setopt_pointer(easy, CURLOPT_OPENSOCKETDATA, context))
        }
        switch request.method {
        case .get: set(sluice_curl_easy_setopt_long(easy, CURLOPT_HTTPGET, 1))
        case .head: set(sluice_curl_easy_setopt_long(easy, CURLOPT_NOBODY, 1))
        case .post: set(sluice_curl_easy_setopt_long(easy, CURLOPT_POST, 1))
        case .put, .delete: set(sluice_curl_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, request.method.rawValue))
        }
        if let body = request.body {
            set(sluice_curl_easy_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)))
            body.withUnsafeBufferPointer { buffer in
                // COPYPOSTFIELDS copies, so the array need not outlive this call.
                set(sluice_curl_easy_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: buffer.baseAddress ?? UnsafePointer(bitPattern: 1))))
            }
        }
        // "Expect:" stops libcurl waiting for `100 Continue` before sending a large body.
        for line in request.headers.map({ "\($0.name): \($0.value)" }) + ["Expect:"] {
            guard let appended = curl_slist_append(headerList, line) else {
                throw HTTPClientError(.invalidRequest, "libcurl could not add a header")
            }
            headerList = appended
        }
        set(sluice_curl_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, headerList))
        if failed != CURLE_OK {
            throw HTTPClientError(.invalidRequest, "cannot configure the request to \(request.hostForMessages): \(String(cString: curl_easy_strerror(failed)))")
        }
    }

    static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return max(1, Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))
    }

    // MARK: Loop-thread events

    func didStart(at now: ContinuousClock.Instant) {
        started = now
    }

    /// The first moment this transfer is overdue, or nil when it has no pending deadline.
    /// The nearest deadline and its kind (no allocation: the loop asks on every wake-up).
    func deadline() -> (ContinuousClock.Instant, HTTPClientError.Kind)? {
        guard let started else { return nil }
        var nearest: (ContinuousClock.Instant, HTTPClientError.Kind)?
        func consider(_ instant: ContinuousClock.Instant, _ kind: HTTPClientError.Kind) {
            if nearest.map({ instant < $0.0 }) ?? true { nearest = (instant, kind) }
        }
        if let total = request.timeouts.total { consider(started + total, .totalTimeout) }
        if let lastActivity {
            if let idle = request.timeouts.idle { consider(lastActivity + idle, .idleTimeout) }
        } else if let firstByte = request.timeouts.firstByte {
            consider(started + firstByte, .firstByteTimeout)
        }
        return nearest
    }

    func timeoutError(_ kind: HTTPClientError.Kind) -> HTTPClientError {
        let host = request.hostForMessages
        switch kind {
        case .firstByteTimeout:
            return HTTPClientError(kind, "no response from \(host) within \(request.timeouts.firstByte.map(Self.describe) ?? "?")")
        case .idleTimeout:
            return HTTPClientError(kind, "the response from \(host) stalled for \(request.timeouts.idle.map(Self.describe) ?? "?")")
        default:
            return HTTPClientError(kind, "the transfer from \(host) took longer than \(request.timeouts.total.map(Self.describe) ?? "?")")
        }
    }

    static func describe(_ duration: Duration) -> String {
        let ms = milliseconds(duration)
        return ms % 1000 == 0 ? "\(ms / 1000)s" : "\(ms)ms"
    }

    /// One header line, cut from its bytes (HTTP's whitespace is ASCII: space, tab, CR, LF),
    /// without Foundation's Unicode trimming, which cost more than the rest of the line's work.
    fileprivate func receiveHeader(_ bytes: UnsafeBufferPointer<UInt8>) {
        lastActivity = .now
        let line = Self.trimmed(bytes[...])
        if line.starts(with: "HTTP/".utf8) {
            // A new header block (after a redirect or a 100 Continue) replaces the previous one.
            headers = []
            let parts = line.split(separator: UInt8(ascii: " "), maxSplits: 2)
            statusLine = parts.count > 1 ? Int(String(decoding: parts[1], as: UTF8.self)) ?? 0 : 0
        } else if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            let name = String(decoding: line[..<colon], as: UTF8.self)
            let value = String(decoding: Self.trimmed(line[(colon + 1)...]), as: UTF8.self)
            headers.append(HTTPHeader(name, value))
        }
    }

    private static func trimmed(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> Slice<UnsafeBufferPointer<UInt8>> {
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end, isSpace(bytes[start]) { start += 1 }
        while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        return bytes[start..<end]
    }

    fileprivate func receiveBody(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        lastActivity = .now
        deliverHead()
        bytesReceived += bytes.count
        if let limit = request.maxResponseBytes, bytesReceived > limit {
            callbackError = HTTPClientError(.responseTooLarge, "the response from \(request.hostForMessages) is larger than \(limit) bytes")
            return false
        }
        bodyContinuation.yield(Array(bytes))
        return true
    }

    fileprivate func refuse(_ address: String) {
        var message = "refused to connect to \(request.hostForMessages): it resolves to \(address), a loopback, private or link-local address"
        if Self.proxyConfigured {
            // libcurl connects to the proxy, so the guard sees the proxy's address, not the page's.
            message += " (a proxy is configured, and this may be the proxy's address: allow private addresses to fetch through it)"
        }
        callbackError = HTTPClientError(.addressRefused, message)
    }

    private static let proxyConfigured: Bool = {
        let environment = ProcessInfo.processInfo.environment
        return ["http_proxy", "https_proxy", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"].contains { environment[$0]?.isEmpty == false }
    }()

    private func deliverHead() {
        guard !headDelivered else { return }
        headDelivered = true
        var code = 0
        _ = sluice_curl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &code)
        let head = HTTPResponseHead(status: code != 0 ? code : statusLine, headers: headers)
        headContinuation?.resume(returning: head)
        headContinuation = nil
    }

    /// Called once libcurl reports the transfer done.
    func complete(_ code: Int) {
        let result = CURLcode(rawValue: UInt32(code))
        if result == CURLE_OK && callbackError == nil {
            deliverHead()
            finish(nil)
            return
        }
        if let callbackError {
            finish(callbackError)
        } else if result == CURLE_OPERATION_TIMEDOUT {
            // Only the connect timeout is given to libcurl; the others are the loop's.
            finish(HTTPClientError(.connectTimeout, "could not connect to \(request.hostForMessages) within \(Self.describe(request.timeouts.connect))"))
        } else {
            let detail = String(cString: errorBuffer)
            let reason = detail.isEmpty ? String(cString: curl_easy_strerror(result)) : detail
            let cut = headDelivered ? "the response from \(request.hostForMessages) was cut off: " : "request to \(request.hostForMessages) failed: "
            finish(HTTPClientError(.network, cut + Self.withoutQuery(reason)))
        }
    }

    /// Ends the transfer with `error` (nil for success); later calls do nothing.
    func finish(_ error: (any Error)?) {
        guard !finished else { return }
        finished = true
        if let error {
            if let headContinuation {
                headContinuation.resume(throwing: error)
                self.headContinuation = nil
            }
            bodyContinuation.finish(throwing: error)
        } else {
            bodyContinuation.finish()
        }
    }

    /// libcurl's messages can quote the URL; keys live in query strings, so drop any query.
    static func withoutQuery(_ text: String) -> String {
        guard text.contains("?") else { return text }
        return text.split(separator: " ", omittingEmptySubsequences: false).map { word in
            guard let question = word.firstIndex(of: "?") else { return String(word) }
            return String(word[..<question]) + "?…"
        }.joined(separator: " ")
    }
}

// Non-capturing C callbacks: the transfer comes back through the context pointer.

private func curlTransferWrite(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?) -> Int {
    guard let context else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    guard let data, length > 0 else { return length }
    let accepted = data.withMemoryRebound(to: UInt8.self, capacity: length) {
        transfer.receiveBody(UnsafeBufferPointer(start: $0, count: length))
    }
    return accepted ? length : 0
}

private func curlTransferHeader(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?) -> Int {
    guard let context else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    guard let data, length > 0 else { return length }
    data.withMemoryRebound(to: UInt8.self, capacity: length) {
        transfer.receiveHeader(UnsafeBufferPointer(start: $0, count: length))
    }
    return length
}

private func curlTransferOpenSocket(_ context: UnsafeMutableRawPointer?, _ purpose: curlsocktype, _ address: UnsafeMutablePointer<curl_sockaddr>?) -> curl_socket_t {
    guard let context, let address else { return -1 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    let family = address.pointee.family
    let offset = MemoryLayout<curl_sockaddr>.offset(of: \curl_sockaddr.addr) ?? 0
    let socketAddress = UnsafeRawPointer(address).advanced(by: offset)
    if let ip = IPAddress(socketAddress: socketAddress, family: family), !transfer.request.addressPolicy.allows(ip) {
        transfer.refuse(ip.description)
        return -1
    }
    return socket(family, address.pointee.socktype, address.pointee.protocol)
}
