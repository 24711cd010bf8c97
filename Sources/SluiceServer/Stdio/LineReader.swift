import Foundation

/// Reads newline-delimited lines from a file descriptor on a thread of its own, so the
/// blocking `read` never occupies the cooperative pool.
enum LineReader {
    /// The most bytes one line may hold; a longer line is reported as too long and skipped.
    static let defaultMaxLineBytes = 64 << 20

    enum Line: Sendable {
        case line([UInt8])
        case tooLong(Int)
    }

    /// The lines of `descriptor` until end of file (without their `\n`; a `\r` before it is dropped).
    static func lines(of descriptor: Int32, maxLineBytes: Int = defaultMaxLineBytes) -> AsyncStream<Line> {
        let (stream, continuation) = AsyncStream.makeStream(of: Line.self)
        let thread = Thread {
            var pending: [UInt8] = []
            var overflow = 0
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count < 0, errno == EINTR { continue }
                if count <= 0 { break }
                var start = 0
                for index in 0..<count where buffer[index] == UInt8(ascii: "\n") {
                    append(buffer[start..<index], to: &pending, overflow: &overflow, limit: maxLineBytes)
                    emit(&pending, &overflow, continuation)
                    start = index + 1
                }
                append(buffer[start..<count], to: &pending, overflow: &overflow, limit: maxLineBytes)
            }
            if !pending.isEmpty || overflow > 0 { emit(&pending, &overflow, continuation) }
            continuation.finish()
        }
        thread.name = "sluice-stdin"
        thread.start()
        return stream
    }

    private static func append(_ bytes: ArraySlice<UInt8>, to pending: inout [UInt8], overflow: inout Int, limit: Int) {
        if overflow > 0 || pending.count + bytes.count > limit {
            overflow += pending.count + bytes.count
            pending.removeAll()
        } else {
            pending.append(contentsOf: bytes)
        }
    }

    private static func emit(_ pending: inout [UInt8], _ overflow: inout Int, _ continuation: AsyncStream<Line>.Continuation) {
        if overflow > 0 {
            continuation.yield(.tooLong(overflow))
        } else {
            if pending.last == UInt8(ascii: "\r") { pending.removeLast() }
            if !pending.isEmpty { continuation.yield(.line(pending)) }
        }
        pending = []
        overflow = 0
    }
}

/// Writes whole lines to a file descriptor from one serial queue: frames never interleave,
/// however many tasks send at once, and blocking writes stay off the cooperative pool.
final class LineWriter: Sendable {
    private let descriptor: Int32
    private let queue = DispatchQueue(label: "sluice-stdout")

    init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    /// Writes `line` plus `\n`; returns once it is written (or the descriptor failed).
    func write(_ line: String) async {
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        let descriptor = self.descriptor
        let payload = bytes
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async {
                var offset = 0
                while offset < payload.count {
                    let written = payload.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
                    if written < 0 {
                        if errno == EINTR { continue }
                        break
                    }
                    offset += written
                }
                continuation.resume()
            }
        }
    }
}
