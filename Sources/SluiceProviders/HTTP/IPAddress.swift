import Foundation

/// An IPv4 or IPv6 address, as the connection guard sees it.
struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    /// 4 bytes for IPv4, 16 for IPv6.
    let bytes: [UInt8]

    init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Parses a numeric address (`127.0.0.1`, `::1`, `fe80::1`).
    init?(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self.bytes = withUnsafeBytes(of: &v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            self.bytes = withUnsafeBytes(of: &v6) { Array($0) }
            return
        }
        return nil
    }

    /// Reads the address out of a `sockaddr_in`/`sockaddr_in6` of `family`.
    init?(socketAddress: UnsafeRawPointer, family: Int32) {
        switch family {
        case AF_INET:
            let address = socketAddress.loadUnaligned(as: sockaddr_in.self)
            var raw = address.sin_addr
            bytes = withUnsafeBytes(of: &raw) { Array($0) }
        case AF_INET6:
            let address = socketAddress.loadUnaligned(as: sockaddr_in6.self)
            var raw = address.sin6_addr
            bytes = withUnsafeBytes(of: &raw) { Array($0) }
        default:
            return nil
        }
    }

    /// The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`).
    private var mappedIPv4: IPAddress? {
        guard bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff else { return nil }
        return IPAddress(bytes: Array(bytes[12..<16]))
    }

    var isLoopback: Bool {
        if let mappedIPv4 { return mappedIPv4.isLoopback }
        if bytes.count == 4 { return bytes[0] == 127 }
        return bytes[0..<15].allSatisfy { $0 == 0 } && bytes[15] == 1
    }

    /// Private, link-local, unspecified, carrier-grade NAT, multicast and broadcast ranges.
    var isPrivateOrLinkLocal: Bool {
        if let mappedIPv4 { return mappedIPv4.isPrivateOrLinkLocal }
        if bytes.count == 4 {
            let (a, b) = (bytes[0], bytes[1])
            return a == 0 || a == 10 || (a == 172 && (16...31).contains(b)) || (a == 192 && b == 168)
                || (a == 169 && b == 254) || (a == 100 && (64...127).contains(b)) || a >= 224
        }
        if bytes.allSatisfy({ $0 == 0 }) { return true }
        return (bytes[0] & 0xfe) == 0xfc  // fc00::/7 unique local
            || (bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0x80)  // fe80::/10 link-local
            || bytes[0] == 0xff  // multicast
    }

    var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        let ok = bytes.withUnsafeBytes { raw in inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)) != nil }
        guard ok else { return bytes.map(String.init).joined(separator: ".") }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension AddressPolicy {
    func allows(_ address: IPAddress) -> Bool {
        if address.isLoopback { return allowLoopback }
        if address.isPrivateOrLinkLocal { return allowPrivate }
        return true
    }
}
