import Foundation

/// Loads documents from local files inside one allowed folder.
///
/// Reads `.txt`, `.md`, `.json` as they are, `.html`/`.htm` stripped to text, and `.pdf`
/// through `pdftotext` when it is installed (a clear error when it is not). A path with a
/// `..` component, or one whose real location (symlinks resolved) lies outside `root`, is
/// refused: plans come from users, and a plan must not read `/etc/passwd` through a link.
public struct LocalDocumentLoader: DocumentLoader {
    public static let providerName = "local-files"
    /// Documents larger than this are refused rather than read into memory.
    public static let defaultMaxBytes = 32 << 20

    public let root: String
    public let maxBytes: Int
    /// The `pdftotext` executable; nil when it is not installed.
    public let pdfTool: String?

    /// - Parameters:
    ///   - root: the folder documents must be in (relative paths are resolved against it).
    ///   - pdfTool: the `pdftotext` to use; by default the one on the `PATH`, if any.
    public init(root: String, maxBytes: Int = LocalDocumentLoader.defaultMaxBytes, pdfTool: String? = LocalDocumentLoader.installedPDFTool()) {
        self.root = root
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

    /// The real path of `path` after checking it stays inside the root.
    func resolve(_ path: String) throws(ProviderError) -> String {
        if path.split(separator: "/").contains("..") {
            throw ProviderError(.refused, "'\(path)' contains '..'; documents must be inside \(root)", provider: Self.providerName)
        }
        guard let realRoot = Self.realPath(root) else {
            throw ProviderError(.notFound, "the document folder '\(root)' does not exist", provider: Self.providerName)
        }
        let joined = path.hasPrefix("/") ? path : realRoot + "/" + path
        guard let real = Self.realPath(joined) else {
            throw ProviderError(.notFound, "no document '\(path)' (looked in \(root))", provider: Self.providerName)
        }
        let rootPrefix = realRoot.hasSuffix("/") ? realRoot : realRoot + "/"
        guard real.hasPrefix(rootPrefix) else {
            throw ProviderError(.refused, "'\(path)' is outside the document folder \(root)", provider: Self.providerName)
        }
        return real
    }

    private func read(_ file: String, shownAs path: String) throws(ProviderError) -> Data {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw ProviderError(.unsupported, "'\(path)' is a folder, not a document", provider: Self.providerName)
        }
        guard let handle = FileHandle(forReadingAtPath: file) else {
            throw ProviderError(.notFound, "cannot open '\(path)'", provider: Self.providerName)
        }
        // Closing a handle we only read from cannot lose data; a close error changes nothing for us.
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: maxBytes + 1) ?? Data()
        } catch {
            throw ProviderError(.notFound, "cannot read '\(path)': \(error.localizedDescription)", provider: Self.providerName)
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
