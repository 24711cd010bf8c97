import Foundation

/// A loopback port whose accept queue is full: new connections hang in the handshake, which is
/// how a connect timeout happens without leaving the machine. The listener never accepts;
/// two connections fill its queue (Linux queues backlog + 1), and the kernel drops later SYNs.
final class SaturatedListener {
    let port: Int
    private var descriptors: [Int32] = []

    init() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard listener >= 0, bound == 0, listen(listener, 0) == 0 else { throw SaturationError() }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        descriptors.append(listener)
        for _ in 0..<2 {
            let filler = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var flags = fcntl(filler, F_GETFL)
            flags |= O_NONBLOCK
            _ = fcntl(filler, F_SETFL, flags)
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(filler, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            descriptors.append(filler)
        }
        // Let the fillers' handshakes complete so the queue is really full.
        usleep(50_000)
    }

    deinit {
        for descriptor in descriptors { close(descriptor) }
    }

    struct SaturationError: Error {}
}
