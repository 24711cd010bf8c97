public import Foundation
import Synchronization

/// A loopback OpenTelemetry collector for tests: accepts OTLP/HTTP protobuf trace exports
/// (`POST /v1/traces`) and decodes the spans with a small protobuf wire-format reader.
///
/// ```swift
/// let receiver = try OTLPTraceReceiver()
/// // run with OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint
/// let spans = receiver.spans
/// ```
public final class OTLPTraceReceiver: Sendable {
    /// One exported span.
    public struct Span: Sendable, CustomStringConvertible {
        public var traceID: String
        public var spanID: String
        /// Empty for a root span.
        public var parentSpanID: String
        public var name: String
        /// OTLP's SpanKind: 1 internal, 2 server, 3 client.
        public var kind: Int
        public var startNanos: UInt64
        public var endNanos: UInt64
        public var attributes: [String: Value]
        public var eventNames: [String]
        /// OTLP's status code: 0 unset, 1 ok, 2 error.
        public var statusCode: Int
        public var statusMessage: String

        public var description: String { "\(name) [\(spanID) ← \(parentSpanID)]" }
        public func string(_ key: String) -> String? { if case .string(let s) = attributes[key] { s } else { nil } }
        public func int(_ key: String) -> Int64? { if case .int(let i) = attributes[key] { i } else { nil } }
    }

    /// An attribute value.
    public enum Value: Sendable, Equatable, CustomStringConvertible {
        case string(String), bool(Bool), int(Int64), double(Double), array([Value]), other

        public var description: String {
            switch self {
            case .string(let s): s
            case .bool(let b): String(b)
            case .int(let i): String(i)
            case .double(let d): String(d)
            case .array(let a): a.map(\.description).joined(separator: ",")
            case .other: "?"
            }
        }
    }

    /// What arrived, shared with the server's handler.
    private final class Received: Sendable {
        let spans = Mutex<[Span]>([])
        let resources = Mutex<[[String: Value]]>([])
    }

    private let server: FakeHTTPServer
    private let received = Received()

    /// What to set `OTEL_EXPORTER_OTLP_ENDPOINT` to.
    public var endpoint: String { server.baseURL }
    /// Every span received so far.
    public var spans: [Span] { received.spans.withLock { $0 } }
    /// The resource attributes of every export received.
    public var resourceAttributes: [[String: Value]] { received.resources.withLock { $0 } }
    /// The HTTP requests received (paths, headers).
    public var requests: [FakeRequest] { server.requests }

    public init() throws {
        let received = self.received
        server = try FakeHTTPServer { request in
            guard request.method == "POST", request.path == "/v1/traces" else { return .text("not found", status: 404) }
            do {
                let (resourceList, spans) = try OTLPDecoder.exportRequest(request.body)
                received.spans.withLock { $0 += spans }
                received.resources.withLock { $0 += resourceList }
                return FakeResponse(status: 200, headers: [("Content-Type", "application/x-protobuf")], parts: [.bytes([])])
            } catch {
                return .text("bad protobuf: \(error)", status: 400)
            }
        }
    }

    public func stop() { server.stop() }

    /// Waits (up to `timeout`) until `done` holds for the spans received.
    public func waitForSpans(timeout: Duration = .seconds(20), until done: ([Span]) -> Bool) async -> [Span] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let current = spans
            if done(current) { return current }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return spans
    }
}

/// The protobuf wire format, as far as OTLP traces need it.
enum OTLPDecoder {
    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    enum Field {
        case varint(UInt64), fixed64(UInt64), bytes(ArraySlice<UInt8>), fixed32(UInt32)
    }

    static func fields(_ bytes: ArraySlice<UInt8>) throws -> [(Int, Field)] {
        var result: [(Int, Field)] = []
        var index = bytes.startIndex
        func varint() throws -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard index < bytes.endIndex, shift < 64 else { throw Malformed(description: "truncated varint") }
                let byte = bytes[index]
                index += 1
                value |= UInt64(byte & 0x7f) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
        }
        func fixed(_ count: Int) throws -> UInt64 {
            guard bytes.endIndex - index >= count else { throw Malformed(description: "truncated fixed field") }
            var value: UInt64 = 0
            for offset in 0..<count { value |= UInt64(bytes[index + offset]) << (8 * UInt64(offset)) }
            index += count
            return value
        }
        while index < bytes.endIndex {
            let tag = try varint()
            let number = Int(tag >> 3)
            switch tag & 7 {
            case 0: result.append((number, .varint(try varint())))
            case 1: result.append((number, .fixed64(try fixed(8))))
            case 2:
                let length = Int(try varint())
                guard length >= 0, bytes.endIndex - index >= length else { throw Malformed(description: "truncated bytes") }
                result.append((number, .bytes(bytes[index..<(index + length)])))
                index += length
            case 5: result.append((number, .fixed32(UInt32(try fixed(4)))))
            default: throw Malformed(description: "wire type \(tag & 7)")
            }
        }
        return result
    }

    static func exportRequest(_ body: [UInt8]) throws -> ([[String: OTLPTraceReceiver.Value]], [OTLPTraceReceiver.Span]) {
        var resources: [[String: OTLPTraceReceiver.Value]] = []
        var spans: [OTLPTraceReceiver.Span] = []
        for case (1, .bytes(let resourceSpans)) in try fields(body[...]) {
            for (number, field) in try fields(resourceSpans) {
                guard case .bytes(let inner) = field else { continue }
                if number == 1 {
                    var attributes: [String: OTLPTraceReceiver.Value] = [:]
                    for case (1, .bytes(let pair)) in try fields(inner) {
                        let (key, value) = try keyValue(pair)
                        attributes[key] = value
                    }
                    resources.append(attributes)
                } else if number == 2 {
                    for case (2, .bytes(let span)) in try fields(inner) { spans.append(try self.span(span)) }
                }
            }
        }
        return (resources, spans)
    }

    static func span(_ bytes: ArraySlice<UInt8>) throws -> OTLPTraceReceiver.Span {
        var span = OTLPTraceReceiver.Span(
            traceID: "", spanID: "", parentSpanID: "", name: "", kind: 0, startNanos: 0, endNanos: 0,
            attributes: [:], eventNames: [], statusCode: 0, statusMessage: "")
        for (number, field) in try fields(bytes) {
            switch (number, field) {
            case (1, .bytes(let b)): span.traceID = hex(b)
            case (2, .bytes(let b)): span.spanID = hex(b)
            case (4, .bytes(let b)): span.parentSpanID = hex(b)
            case (5, .bytes(let b)): span.name = String(decoding: b, as: UTF8.self)
            case (6, .varint(let v)): span.kind = Int(v)
            case (7, .fixed64(let v)): span.startNanos = v
            case (8, .fixed64(let v)): span.endNanos = v
            case (9, .bytes(let b)):
                let (key, value) = try keyValue(b)
                span.attributes[key] = value
            case (11, .bytes(let b)):
                for case (2, .bytes(let name)) in try fields(b) { span.eventNames.append(String(decoding: name, as: UTF8.self)) }
            case (15, .bytes(let b)):
                for (statusField, value) in try fields(b) {
                    if statusField == 2, case .bytes(let message) = value { span.statusMessage = String(decoding: message, as: UTF8.self) }
                    if statusField == 3, case .varint(let code) = value { span.statusCode = Int(code) }
                }
            default: break
            }
        }
        return span
    }

    static func keyValue(_ bytes: ArraySlice<UInt8>) throws -> (String, OTLPTraceReceiver.Value) {
        var key = ""
        var value = OTLPTraceReceiver.Value.other
        for (number, field) in try fields(bytes) {
            if number == 1, case .bytes(let b) = field { key = String(decoding: b, as: UTF8.self) }
            if number == 2, case .bytes(let b) = field { value = try anyValue(b) }
        }
        return (key, value)
    }

    static func anyValue(_ bytes: ArraySlice<UInt8>) throws -> OTLPTraceReceiver.Value {
        for (number, field) in try fields(bytes) {
            switch (number, field) {
            case (1, .bytes(let b)): return .string(String(decoding: b, as: UTF8.self))
            case (2, .varint(let v)): return .bool(v != 0)
            case (3, .varint(let v)): return .int(Int64(bitPattern: v))
            case (4, .fixed64(let v)): return .double(Double(bitPattern: v))
            case (5, .bytes(let b)):
                var values: [OTLPTraceReceiver.Value] = []
                for case (1, .bytes(let element)) in try fields(b) { values.append(try anyValue(element)) }
                return .array(values)
            default: continue
            }
        }
        return .other
    }

    static func hex(_ bytes: ArraySlice<UInt8>) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }
}
