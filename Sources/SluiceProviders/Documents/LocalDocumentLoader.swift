import Foundation

/// Loads documents from local files inside one allowed folder, the document root.
///
/// Reads `.txt`, `.md`, `.json` as they are, `.html`/`.htm` stripped to text, and `.pdf`
/// through `pdftotext` when it is installed (a clear error when it is not).
///
/// Paths come from users (a plan, a request), so a path is refused when it has a `..` or a NUL,
/// when any folder or file on its way is hidden (`.env`, `.git/`, `.sluice/`), when its real
/// location (every symlink resolved) lies outside the root or inside the Sluice home, and
/// always when there is no root (`sluice serve` without `--documents`). Every refusal and a
/// missing file get the same message, which names neither the root nor the real path: a
/// client learns nothing about the server's files from it.
public struct LocalDocumentLoader: DocumentLoader {
    public static let providerName = "local-files"
    /// Documents larger than this are refused rather than read into memory.
    public static let defaultMaxBytes = 32 << 20

    /// The folder documents must be in; nil refuses every local path.
    public let root: String?
    /// Folders never read even inside the root (the Sluice home: runs, cache, sessions).
    public let excluded: [String]
    public let maxBytes: Int
    /// The `pdftotext` executable; nil when it is not installed.
    public let pdfTool: String?

    /// - Parameters:
    ///   - root: the folder documents must be in (relative paths are resolved against it); nil
    ///     when local documents are not allowed at all.
    ///   - excluding: folders never read; `SLUICE_HOME` of the environment is always added.
    ///   - pdfTool: the `pdftotext` to use; by default the one on the `PATH`, if any.
    public init(
        root: String?, excluding: [String] = [], maxBytes: Int = LocalDocumentLoader.defaultMaxBytes,
        pdfTool: String? = LocalDocumentLoader.installedPDFTool()
    ) {
        self.root = root
        var excluded = excluding
        if let home = ProcessInfo.processInfo.environment["SLUICE_HOME"], !home.isEmpty { excluded.append(home) }
        self.excluded = excluded
        self.maxBytes = maxBytes
        self.pdfTool = pdfTool
    }

    /// The `pdftotext` on the `PATH`, or nil when it is not installed.
    public static func installedPDFTool() -> String? { PDFText.findTool() }

    public func load(path: String) async throws -> LoadedDocument {
        try Task.checkCancellation()
        if path.hasPrefix("http://") || path.hasPrefix("https://") {
            throw ProviderError(.unsupported, "'\(path)' is a URL; the local document loader reads files only", provider: Self.providerName)
        }
        let file = try resolve(path)
        if file.lowercased().hasSuffix(".pdf") {
            let text = try await PDFText.extract(file: file, shownAs: path, tool: pdfTool, provider: Self.providerName)
            return LoadedDocument(path: path, text: text)
        }
        let data = try read(file, shownAs: path)
        try Task.checkCancellation()
        guard let raw = String(data: data, encoding: .utf8) else {
            throw ProviderError(.unsupported, "'\(path)' is not UTF-8 text", provider: Self.providerName)
        }
        let lowered = file.lowercased()
        let text = lowered.hasSuffix(".html") || lowered.hasSuffix(".htm") ? HTMLText.plainText(raw) : raw
        return LoadedDocument(path: path, text: text)
    }

    /// The real path of `path` after checking it is an allowed document (see the type's rules).
    func resolve(_ path: String) throws(ProviderError) -> String {
        guard let root else {
            throw ProviderError(
                .refused,
                "local documents are not enabled on this server: start it with --documents DIR (or set SLUICE_DOCUMENT_ROOT) to allow files from one folder; http(s) URLs are fetched",
                provider: Self.providerName)
        }
        let unavailable = ProviderError(
            .notFound, "no document '\(path)' in the document folder (documents are files inside it, never hidden files or folders)",
            provider: Self.providerName)
        guard !path.isEmpty, !path.contains("\0") else { throw unavailable }
        let components = path.split(separator: "/")
        guard !components.contains(where: { $0 == ".." || $0.hasPrefix(".") && $0 != "." }) else { throw unavailable }
        guard let realRoot = Self.realPath(root) else { throw unavailable }
        let joined = path.hasPrefix("/") ? path : realRoot + "/" + path
        guard let real = Self.realPath(joined) else { throw unavailable }
        let rootPrefix = realRoot.hasSuffix("/") ? realRoot : realRoot + "/"
        guard real.hasPrefix(rootPrefix) else { throw unavailable }
        // Symlinks resolved: the real path's own components inside the root must not be hidden.
        guard !real.dropFirst(rootPrefix.count).split(separator: "/").contains(where: { $0.hasPrefix(".") }) else { throw unavailable }
        for folder in excluded {
            guard let realFolder = Self.realPath(folder) else { continue }
            if real == realFolder || real.hasPrefix(realFolder.hasSuffix("/") ? realFolder : realFolder + "/") { throw unavailable }
        }
        return real
    }

    private func read(_ file: String, shownAs path: String) throws(ProviderError) -> Data {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw ProviderError(.unsupported, "'\(path)' is a folder, not a document", provider: Self.providerName)
        }
        guard let handle = FileHandle(forReadingAtPath: file) else {
            throw ProviderError(.notFound, "cannot open '\(path)' (not readable by the server)", provider: Self.providerName)
        }
        // Closing a handle we only read from cannot lose data; a close error changes nothing for us.
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: maxBytes + 1) ?? Data()
        } catch {
            throw ProviderError(.notFound, "cannot read '\(path)' (a read error on the server)", provider: Self.providerName)
        }
        guard data.count <= maxBytes else {
            throw ProviderError(.refused, "'\(path)' is larger than \(maxBytes) bytes", provider: Self.providerName)
        }
        return data
    }

    /// The canonical path with every symlink resolved, or nil when it does not exist.
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
