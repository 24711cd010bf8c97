import Foundation
import SluiceFakeServices
import SluiceJSON
import Synchronization

/// A headless Chromium driven over the DevTools protocol, for the web pages' tests: a real
/// browser loads the pages from a real `sluice serve`, runs their scripts, and the test reads
/// the DOM with `Runtime.evaluate` (and acts on it the same way: fill a field, click).
///
/// The browser's WebSocket is spoken by ``DevToolsSocket`` over a loopback TCP socket.
/// `@unchecked Sendable`: `process` is set once and then only terminated.
final class HeadlessChromium: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// `SLUICE_CHROMIUM` when set (nil when it names no executable), else Debian's `chromium`
    /// (what `.ci/run` installs), else a Chrome.
    static let executable: String? = {
        let named = ProcessInfo.processInfo.environment["SLUICE_CHROMIUM"].map { [$0] }
        return (named ?? ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]).first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }()
    static let inCI = ProcessInfo.processInfo.environment["CI"] == "true"
    static var available: Bool { executable != nil }

    private let process: Process
    private let profile: URL
    let socket: DevToolsSocket

    init() async throws {
        guard let executable = Self.executable else {
            throw Failure(description: "no Chromium: install Debian's chromium (.ci/run does) or set SLUICE_CHROMIUM")
        }
        profile = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-chromium-\(UUID().uuidString)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        process.arguments = [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--no-default-browser-check", "--disable-extensions", "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0", "--user-data-dir=\(profile.path)", "about:blank",
        ]
        let stderr = Pipe()
        process.standardError = stderr
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        let endpoints = Mailbox<String>()
        let reader = stderr.fileHandleForReading
        // Reads stderr to the end (so Chromium never blocks on it); hands over the DevTools URL.
        Thread.detachNewThread {
            var text = ""
            var announced = false
            while true {
                let data = reader.availableData
                if data.isEmpty { break }
                guard !announced else { continue }
                text += String(decoding: data, as: UTF8.self)
                if let range = text.range(of: "DevTools listening on "), let end = text[range.upperBound...].firstIndex(of: "\n") {
                    announced = true
                    endpoints.put(String(text[range.upperBound..<end]).trimmingCharacters(in: .whitespaces))
                }
            }
            if !announced { endpoints.put("failed: " + text) }
            endpoints.close()
        }
        try process.run()
        self.process = process
        guard let endpoint = await endpoints.take(), endpoint.hasPrefix("ws://") else {
            process.terminate()
            throw Failure(description: "Chromium did not start its DevTools endpoint")
        }
        socket = try DevToolsSocket(url: endpoint)
    }

    /// A new tab showing `url`.
    func open(_ url: String) async throws -> BrowserTab {
        let target = try await socket.send("Target.createTarget", ["url": "about:blank"])
        guard let targetID = target["targetId"]?.stringValue else { throw Failure(description: "no targetId in \(target)") }
        let attached = try await socket.send("Target.attachToTarget", ["targetId": .string(targetID), "flatten": true])
        guard let session = attached["sessionId"]?.stringValue else { throw Failure(description: "no sessionId in \(attached)") }
        let tab = BrowserTab(socket: socket, session: session)
        try await tab.navigate(url)
        return tab
    }

    /// Ends the browser. Synchronous for a `defer`, but it does not wait on the calling
    /// (cooperative) thread: a thread of its own waits for the exit, then removes the profile.
    func close() {
        socket.close()
        if process.isRunning { process.terminate() }
        Thread.detachNewThread { [process, profile] in
            process.waitUntilExit()
            try? FileManager.default.removeItem(at: profile)
        }
    }

    deinit { close() }
}

/// One tab: navigate, evaluate JavaScript, wait for a DOM condition.
struct BrowserTab: Sendable {
    let socket: DevToolsSocket
    let session: String

    func navigate(_ url: String) async throws {
        _ = try await socket.send("Page.navigate", ["url": .string(url)], session: session)
    }

    /// The value of `expression` (JSON-serializable), evaluated in the page.
    @discardableResult
    func evaluate(_ expression: String) async throws -> JSONValue {
        let answer = try await socket.send("Runtime.evaluate", ["expression": .string(expression), "returnByValue": true], session: session)
        if let exception = answer["exceptionDetails"] {
            throw HeadlessChromium.Failure(description: "the page threw evaluating \(expression): \(exception)")
        }
        return answer["result"]?["value"] ?? .null
    }

    /// Polls `expression` until it is truthy; its value. No timing is asserted: the generous
    /// overall limit only ends a test that would otherwise hang.
    @discardableResult
    func waitFor(_ what: String, _ expression: String, timeout: Duration = .seconds(120)) async throws -> JSONValue {
        let deadline = ContinuousClock.now + timeout
        var last: JSONValue = .null
        while ContinuousClock.now < deadline {
            // A page between two documents (navigating) has no context to evaluate in: try again.
            if let value = try? await evaluate(expression) {
                last = value
                switch value {
                case .null, .bool(false), .integer(0), .string(""): break
                default: return value
                }
            }
            try await Task.sleep(for: .milliseconds(150))
        }
        let page = (try? await evaluate("document.body ? document.body.innerText.slice(0, 2000) : ''"))?.stringValue ?? ""
        throw HeadlessChromium.Failure(description: "gave up waiting for \(what) (\(expression)); last value \(last); the page said:\n\(page)")
    }
}

/// A client WebSocket (RFC 6455) on a loopback TCP socket, carrying DevTools commands and
/// their answers matched by `id`. Events are ignored: the tests poll the DOM instead.
final class DevToolsSocket: Sendable {
    private let descriptor: Int32
    private struct State {
        var nextID = 0
        var waiting: [Int: CheckedContinuation<JSONValue, any Error>] = [:]
        var closed = false
    }
    private let state = Mutex(State())
    private let writeLock = Mutex(())

    init(url: String) throws {
        // ws://127.0.0.1:PORT/devtools/browser/ID
        guard let parsed = URL(string: url), let port = parsed.port else {
            throw HeadlessChromium.Failure(description: "not a DevTools URL: \(url)")
        }
        do {
            descriptor = try LoopbackSocket.open(port: port)
        } catch {
            throw HeadlessChromium.Failure(description: error.description)
        }
        let key = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let request = "GET \(parsed.path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n\r\n"
        try Self.send(Array(request.utf8), descriptor)
        var head = [UInt8]()
        while !head.suffix(4).elementsEqual(Array("\r\n\r\n".utf8)) {
            var byte: UInt8 = 0
            guard recv(descriptor, &byte, 1, 0) == 1 else { throw HeadlessChromium.Failure(description: "the DevTools handshake broke off") }
            head.append(byte)
        }
        let status = String(decoding: head, as: UTF8.self)
        guard status.hasPrefix("HTTP/1.1 101") else { throw HeadlessChromium.Failure(description: "the DevTools handshake answered: \(status)") }
        let descriptor = self.descriptor
        Thread.detachNewThread { [self] in
            while let message = Self.readMessage(descriptor, pong: { self.write(opcode: 0xA, $0) }) {
                guard let json = try? JSONParser.parse(Array(message)), let id = json["id"]?.integerValue else { continue }
                let waiter = state.withLock { $0.waiting.removeValue(forKey: Int(id)) }
                if let error = json["error"] {
                    waiter?.resume(throwing: HeadlessChromium.Failure(description: "DevTools error: \(error)"))
                } else {
                    waiter?.resume(returning: json["result"] ?? .null)
                }
            }
            let waiters = state.withLock { state in
                state.closed = true
                defer { state.waiting = [:] }
                return Array(state.waiting.values)
            }
            for waiter in waiters { waiter.resume(throwing: HeadlessChromium.Failure(description: "the browser closed its DevTools connection")) }
        }
    }

    /// Sends a command (to a tab's `session` when given) and returns its `result`.
    func send(_ method: String, _ params: JSONObject = [:], session: String? = nil) async throws -> JSONValue {
        try await withCheckedThrowingContinuation { continuation in
            let id = state.withLock { state -> Int? in
                guard !state.closed else { return nil }
                state.nextID += 1
                state.waiting[state.nextID] = continuation
                return state.nextID
            }
            guard let id else {
                continuation.resume(throwing: HeadlessChromium.Failure(description: "the DevTools connection is closed"))
                return
            }
            var message: JSONObject = ["id": .integer(Int64(id)), "method": .string(method), "params": .object(params)]
            if let session { message["sessionId"] = .string(session) }
            write(opcode: 0x1, JSONValue.object(message).jsonBytes)
        }
    }

    func close() {
        shutdown(descriptor, Int32(SHUT_RDWR))
    }

    /// One masked frame (a client's frames are always masked).
    private func write(opcode: UInt8, _ payload: [UInt8]) {
        var frame: [UInt8] = [0x80 | opcode]
        let count = payload.count
        if count < 126 {
            frame.append(0x80 | UInt8(count))
        } else if count < 65536 {
            frame += [0x80 | 126, UInt8(count >> 8), UInt8(count & 0xFF)]
        } else {
            frame.append(0x80 | 127)
            frame += (0..<8).reversed().map { UInt8((UInt64(count) >> (8 * UInt64($0))) & 0xFF) }
        }
        let mask = (0..<4).map { _ in UInt8.random(in: 0...255) }
        frame += mask
        frame += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        writeLock.withLock { _ in try? Self.send(frame, descriptor) }
    }

    private static func send(_ bytes: [UInt8], _ descriptor: Int32) throws {
        do {
            try LoopbackSocket.sendAll(bytes, to: descriptor)
        } catch {
            throw HeadlessChromium.Failure(description: error.description)
        }
    }

    /// The next whole text message (fragments joined), answering pings; nil when closed.
    private static func readMessage(_ descriptor: Int32, pong: ([UInt8]) -> Void) -> [UInt8]? {
        var message = [UInt8]()
        while true {
            guard let head = read(2, descriptor) else { return nil }
            let final = head[0] & 0x80 != 0
            let opcode = head[0] & 0x0F
            var length = UInt64(head[1] & 0x7F)
            if length == 126 {
                guard let bytes = read(2, descriptor) else { return nil }
                length = UInt64(bytes[0]) << 8 | UInt64(bytes[1])
            } else if length == 127 {
                guard let bytes = read(8, descriptor) else { return nil }
                length = bytes.reduce(0) { $0 << 8 | UInt64($1) }
            }
            var mask: [UInt8]?
            if head[1] & 0x80 != 0 { mask = read(4, descriptor) }
            guard var payload = read(Int(length), descriptor) else { return nil }
            if let mask { payload = payload.enumerated().map { $0.element ^ mask[$0.offset % 4] } }
            switch opcode {
            case 0x8: return nil
            case 0x9: pong(payload)
            case 0xA: break
            default:
                message += payload
                if final { return message }
            }
        }
    }

    private static func read(_ count: Int, _ descriptor: Int32) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let got = bytes.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress! + offset, count - offset, 0) }
            if got < 0, errno == EINTR { continue }
            guard got > 0 else { return nil }
            offset += got
        }
        return bytes
    }

    deinit { Foundation.close(descriptor) }
}
