import Foundation

/// The plans this very binary has already found valid, one file per plan path in a folder
/// (`sluice run` keeps it in `$SLUICE_HOME/plan-cache`), so starting a run of an unchanged plan
/// skips the checks that depend only on the plan's bytes: the plan schema (and compiling its
/// validator, the largest part of loading), the input schema checks, and — for a plan without
/// `call` steps — the reference and type checks. Decoding, which builds the plan the run
/// executes, always happens; so do the checks of a plan with `call` steps that look at other
/// files (the called plans may have changed).
///
/// An entry holds the build id of the binary that wrote it and a copy of the plan's bytes; a
/// plan counts as validated only when both equal, byte for byte, the running binary's id and
/// the plan as just read. So an edited plan, a different binary, or a truncated, damaged or
/// unrelated entry is a miss (checked in full, the entry rewritten when the plan is valid);
/// an invalid plan is never written. A binary without a build id caches nothing.
///
/// The folder is trusted as `runs.sqlite` beside it is: whoever can write there could also
/// write an entry claiming any bytes valid.
///
/// ```swift
/// let cache = PlanValidationCache(directory: home + "/plan-cache")   // nil: no build id
/// let plan = try PlanLoader(catalog: catalog, validationCache: cache).load(path: path)
/// ```
///
/// #### Errors
/// None of its own: an entry that cannot be read is a miss, one that cannot be written is
/// skipped (the next start checks in full again); the plan's problems are thrown by
/// ``PlanLoader`` as without a cache.
public struct PlanValidationCache: Sendable {
    public let directory: String
    private let binary: [UInt8]

    /// The cache in `directory` (created when the first entry is written); nil when the running
    /// binary has no build id to key entries by.
    public init?(directory: String) {
        guard let binary = BinaryIdentity.current else { return nil }
        self.init(directory: directory, binary: binary)
    }

    init(directory: String, binary: [UInt8]) {
        self.directory = directory
        self.binary = binary
    }

    /// Whether this binary validated exactly `bytes` (read from `path`) before.
    func isValidated(path: String, bytes: [UInt8]) -> Bool {
        let expected = entry(for: bytes)
        guard let stored = try? PlanCatalog.readFile(entryPath(for: path), limit: expected.count) else { return false }
        return stored == expected
    }

    /// Records that `bytes` (read from `path`) passed every check. Best effort: a folder that
    /// cannot be written only means the next start checks in full again.
    func remember(path: String, bytes: [UInt8]) {
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // Atomic (a temporary file renamed): a process reading meanwhile sees the old entry or the new.
        try? Data(entry(for: bytes)).write(to: URL(fileURLWithPath: entryPath(for: path)), options: .atomic)
    }

    /// `sluice validated plan 1`, the binary's build id in hex, then the plan's bytes.
    private func entry(for bytes: [UInt8]) -> [UInt8] {
        let hex = binary.map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
        return Array("sluice validated plan 1\n\(hex)\n".utf8) + bytes
    }

    /// One entry per plan file, named by its absolute path's FNV-1a hash (two paths sharing a
    /// name only replace each other's entry: the bytes are compared on every lookup).
    private func entryPath(for path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in absolute.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let digits = String(hash, radix: 16)
        return directory + "/" + String(repeating: "0", count: 16 - digits.count) + digits + ".plan"
    }
}
