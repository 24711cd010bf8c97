#if canImport(Glibc)
import Glibc
#endif

/// The running executable's GNU build id: the `NT_GNU_BUILD_ID` note the linker derives from
/// the binary's contents, so two builds of different code have different ids. Read from the
/// first kilobytes of `/proc/self/exe` (the ELF header, the program headers, the notes): a few
/// small reads, tens of microseconds, where hashing the 200 MB binary would take far longer
/// than the checks it lets a start skip.
///
/// Nil where there is none (a binary linked without `--build-id`, or not 64-bit
/// little-endian ELF on Linux): then nothing is cached against it.
enum BinaryIdentity {
    static let current: [UInt8]? = readBuildID()

    #if os(Linux)
    private static func readBuildID() -> [UInt8]? {
        let file = open("/proc/self/exe", O_RDONLY | O_CLOEXEC)
        guard file >= 0 else { return nil }
        defer { close(file) }
        func read(_ offset: Int, _ count: Int) -> [UInt8]? {
            guard count > 0, count <= 1 << 20, offset >= 0 else { return nil }
            var bytes = [UInt8](repeating: 0, count: count)
            let got = bytes.withUnsafeMutableBytes { pread(file, $0.baseAddress, count, off_t(offset)) }
            return got == count ? bytes : nil
        }
        // Elf64_Ehdr: magic, class 2 (64-bit), data 1 (little-endian); e_phoff (u64) at 32,
        // e_phentsize (u16) at 54, e_phnum (u16) at 56.
        guard let elf = read(0, 64), elf[0..<6] == [0x7f, 0x45, 0x4c, 0x46, 2, 1] else { return nil }
        let entrySize = Int(elf.littleEndian(at: 54, bytes: 2))
        let count = Int(elf.littleEndian(at: 56, bytes: 2))
        guard entrySize >= 56, let headers = read(Int(elf.littleEndian(at: 32, bytes: 8)), entrySize * count) else { return nil }
        // Elf64_Phdr: p_type (u32) at 0, p_offset (u64) at 8, p_filesz (u64) at 32, p_align (u64) at 48.
        let note: UInt64 = 4
        for index in 0..<count {
            let entry = index * entrySize
            guard headers.littleEndian(at: entry, bytes: 4) == note,
                let notes = read(Int(headers.littleEndian(at: entry + 8, bytes: 8)), Int(headers.littleEndian(at: entry + 32, bytes: 8)))
            else { continue }
            if let id = buildID(inNotes: notes, align: headers.littleEndian(at: entry + 48, bytes: 8) == 8 ? 8 : 4) { return id }
        }
        return nil
    }
    #else
    private static func readBuildID() -> [UInt8]? { nil }
    #endif

    /// The build id among the notes of one `PT_NOTE` segment: each note is namesz, descsz,
    /// type (u32 each), then the name and the descriptor, each padded to `align`.
    static func buildID(inNotes notes: [UInt8], align: Int) -> [UInt8]? {
        func padded(_ size: Int) -> Int { (size + align - 1) / align * align }
        let gnuBuildID: UInt64 = 3
        var offset = 0
        while offset + 12 <= notes.count {
            let nameSize = Int(notes.littleEndian(at: offset, bytes: 4))
            let descriptorSize = Int(notes.littleEndian(at: offset + 4, bytes: 4))
            let name = offset + 12
            let descriptor = name + padded(nameSize)
            let next = descriptor + padded(descriptorSize)
            guard nameSize <= notes.count, descriptorSize <= notes.count, next <= notes.count else { return nil }
            if notes.littleEndian(at: offset + 8, bytes: 4) == gnuBuildID, nameSize == 4,
                notes[name..<name + 4] == [0x47, 0x4e, 0x55, 0], descriptorSize > 0
            {
                return Array(notes[descriptor..<descriptor + descriptorSize])
            }
            offset = next
        }
        return nil
    }
}

extension [UInt8] {
    /// The unsigned little-endian integer of `bytes` bytes at `offset` (0 past the end).
    fileprivate func littleEndian(at offset: Int, bytes: Int) -> UInt64 {
        guard offset >= 0, offset + bytes <= count else { return 0 }
        var value: UInt64 = 0
        for index in (offset..<offset + bytes).reversed() { value = value << 8 | UInt64(self[index]) }
        return value
    }
}
