import Foundation

/// The folders plans are looked up in by name (`sluice run news_report`, `call` steps).
///
/// A plan named `news_report` is the file `news_report.json` in the first folder that has it.
public struct PlanCatalog: Sendable {
    public var directories: [String]

    public init(directories: [String]) {
        self.directories = directories
    }

    /// The folders in effect: `--plans`, else `SLUICE_PLANS` (colon-separated), else `./plans`.
    public static func standard(plansOption: String?, environment: [String: String]) -> PlanCatalog {
        if let plansOption { return PlanCatalog(directories: [plansOption]) }
        if let list = environment["SLUICE_PLANS"], !list.isEmpty {
            return PlanCatalog(directories: list.split(separator: ":").map(String.init))
        }
        return PlanCatalog(directories: ["plans"])
    }

    /// The file for `reference`: an existing path as given, or a plan name looked up in the folders.
    public func resolve(_ reference: String, besides path: String? = nil) -> String? {
        let fileManager = FileManager.default
        if reference.hasSuffix(".json") || reference.contains("/") {
            return fileManager.fileExists(atPath: reference) ? reference : nil
        }
        let folders = (path.map { [($0 as NSString).deletingLastPathComponent] } ?? []) + directories
        for folder in folders {
            let candidate = folder.isEmpty ? "\(reference).json" : "\(folder)/\(reference).json"
            if fileManager.fileExists(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Every `*.json` file directly in the folders, sorted by name within each folder.
    public func planFiles() -> [String] {
        directories.flatMap { folder in
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            return names.filter { $0.hasSuffix(".json") }.sorted().map { "\(folder)/\($0)" }
        }
    }

    /// Reads a whole file, refusing one over `limit` bytes.
    static func readFile(_ path: String, limit: Int) throws(FileReadError) -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                throw FileReadError(description: "'\(path)' is a directory, not a plan file")
            }
            throw FileReadError(description: "cannot read '\(path)': no such file")
        }
        // A failed close of a read-only handle loses nothing.
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: limit + 1) ?? Data()
        } catch {
            throw FileReadError(description: "cannot read '\(path)': \(error.localizedDescription)")
        }
        guard data.count <= limit else {
            throw FileReadError(description: "'\(path)' is larger than \(limit) bytes")
        }
        return [UInt8](data)
    }
}

struct FileReadError: Error, CustomStringConvertible {
    var description: String
}
