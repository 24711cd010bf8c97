import Foundation

/// Extracts the text of a PDF with poppler's `pdftotext`, run as a child process (never on the
/// cooperative pool's threads: the wait is a termination callback).
enum PDFText {
    /// `pdftotext` on the `PATH`, or nil.
    static func findTool(path: String? = ProcessInfo.processInfo.environment["PATH"]) -> String? {
        for folder in (path ?? "/usr/bin:/bin:/usr/local/bin").split(separator: ":") {
            let candidate = String(folder) + "/pdftotext"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// The text of the PDF at `file` (shown as `shownAs` in errors).
    static func extract(file: String, shownAs: String, tool: String?, provider: String) async throws -> String {
        guard let tool else {
            throw ProviderError(
                .unsupported,
                "'\(shownAs)' is a PDF, and reading PDFs needs pdftotext, which is not installed: install poppler-utils (apt install poppler-utils, brew install poppler) or convert the file to text",
                provider: provider
            )
        }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-pdf-\(UUID().uuidString).txt").path
        defer {
            do {
                try FileManager.default.removeItem(atPath: output)
            } catch {
                // Absent when pdftotext failed early; a leftover temporary file is harmless either way.
            }
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = ["-enc", "UTF-8", "-layout", file, output]
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        let status: Int32 = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
                do {
                    try process.run()
                } catch {
                    process.terminationHandler = nil
                    continuation.resume(throwing: ProviderError(.unsupported, "cannot run \(tool): \(error.localizedDescription)", provider: provider))
                }
            }
        } onCancel: {
            process.terminate()
        }
        try Task.checkCancellation()
        guard status == 0 else {
            let message = String(decoding: errors.fileHandleForReading.availableData.prefix(500), as: UTF8.self)
            throw ProviderError(.invalidResponse, "pdftotext could not read '\(shownAs)' (exit \(status)): \(message.trimmingCharacters(in: .whitespacesAndNewlines))", provider: provider)
        }
        guard let data = FileManager.default.contents(atPath: output) else {
            throw ProviderError(.invalidResponse, "pdftotext wrote no text for '\(shownAs)'", provider: provider)
        }
        return String(decoding: data, as: UTF8.self)
    }
}
