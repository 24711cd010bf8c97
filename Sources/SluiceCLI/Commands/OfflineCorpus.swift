import Foundation
import SluiceProviders

/// The local documents `--offline` searches and fetches, chosen the same way by `run` and
/// `serve`: `--corpus DIR`, else `SLUICE_CORPUS`, else `./corpus` when there is one, else none.
///
/// An offline run works from any folder: without a corpus its searches find nothing (said on
/// stderr) rather than the run failing. A folder named explicitly must be readable, though:
/// a typo there is a bad invocation (exit 2), not an empty corpus.
struct OfflineCorpus {
    /// The folder `./corpus` an offline run uses when nothing names another.
    static let defaultFolder = "corpus"

    var corpus: Corpus
    /// The note for stderr saying which documents are used and how to choose others.
    var note: String

    /// - Parameters:
    ///   - option: `--corpus DIR`.
    ///   - configuration: the environment and `.env` (`SLUICE_CORPUS`).
    /// - Throws: ``CLIError`` (exit 2) when a folder named by `option` or `SLUICE_CORPUS`
    ///   cannot be read.
    static func choose(option: String?, configuration: ProviderConfiguration) throws(CLIError) -> OfflineCorpus {
        let howToChoose = "choose another with --corpus DIR or SLUICE_CORPUS"
        let named: (folder: String, source: String)? =
            if let option { (option, "--corpus") } else if let variable = configuration["SLUICE_CORPUS"] { (variable, "SLUICE_CORPUS") } else { nil }
        if let named {
            do {
                let corpus = try Corpus.load(folder: named.folder)
                return OfflineCorpus(corpus: corpus, note: "offline: \(describe(corpus)) in '\(named.folder)' (\(named.source))")
            } catch {
                throw .invalid("\(named.source) '\(named.folder)': \(error.message)")
            }
        }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: defaultFolder, isDirectory: &isFolder), isFolder.boolValue else {
            return OfflineCorpus(
                corpus: Corpus(documents: []),
                note: "note: offline searches find nothing: there is no ./\(defaultFolder) folder here; point to documents with --corpus DIR or SLUICE_CORPUS")
        }
        do {
            let corpus = try Corpus.load(folder: defaultFolder)
            return OfflineCorpus(corpus: corpus, note: "offline: \(describe(corpus)) in ./\(defaultFolder); \(howToChoose)")
        } catch {
            throw .invalid("./\(defaultFolder): \(error.message); \(howToChoose)")
        }
    }

    private static func describe(_ corpus: Corpus) -> String {
        let count = corpus.documents.count
        return "searching \(count) local document\(count == 1 ? "" : "s")"
    }
}
