/// FNV-1a 64-bit, as 16 hex digits: a plan file's fingerprint, and the index of a request
/// (lookups also compare the whole request text, so a collision never returns a wrong answer).
public enum ContentHash {
    public static func hex(of text: String) -> String {
        hex(of: Array(text.utf8))
    }

    public static func hex(of bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let digits = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
