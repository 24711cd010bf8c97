import Foundation

/// The client side of a raw TCP connection to a loopback server, for tests and benchmarks that
/// must see exactly what a server sends (status line, chunked bodies, SSE) or drop a connection.
public enum LoopbackSocket {
    /// A socket connected to 127.0.0.1:`port`; the caller closes it.
    public static func open(port: Int) throws(FakeServerError) -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw FakeServerError("socket() failed: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let code = errno
            close(descriptor)
            throw FakeServerError("connect to 127.0.0.1:\(port) failed: errno \(code)")
        }
        return descriptor
    }

    /// Writes all of `bytes` (without SIGPIPE when the server has gone away).
    public static func sendAll(_ bytes: [UInt8], to descriptor: Int32) throws(FakeServerError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw FakeServerError("send failed: errno \(errno)") }
            offset += written
        }
    }

    /// One `recv` into `scratch`, retried when a signal interrupts it: the number of bytes read
    /// (at most `scratch.count`), 0 at the end of the stream.
    public static func receive(from descriptor: Int32, into scratch: inout [UInt8]) throws(FakeServerError) -> Int {
        while true {
            let count = scratch.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count >= 0 { return count }
            guard errno == EINTR else { throw FakeServerError("recv failed: errno \(errno)") }
        }
    }
}
