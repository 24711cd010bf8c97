import Foundation

/// One document of a local corpus: a Markdown file with front matter.
///
/// ```markdown
/// ---
/// title: Example raises $40M for agent tooling
/// url: https://example.com/news/agent-tooling
/// date: 2026-11-18
/// ---
/// Body text…
/// ```
public struct CorpusDocument: Sendable, Hashable {
    public var title: String
    public var url: String
    /// ISO 8601 date (`YYYY-MM-DD`), when the front matter gives one.
    public var date: String?
    public var body: String
    /// The file it came from, relative to the corpus folder.
    public var file: String

    public init(title: String, url: String, date: String?, body: String, file: String) {
        self.title = title
        self.url = url
        self.date = date
        self.body = body
        self.file = file
    }
}

/// A folder of Markdown documents searched and fetched by the offline providers.
public struct Corpus: Sendable {
    public static let providerName = "corpus"
    public var documents: [CorpusDocument]

    public init(documents: [CorpusDocument]) {
        self.documents = documents
    }

    /// Reads every `.md`/`.txt` file directly in `folder`, sorted by file name.
    ///
    /// A file without front matter is still a document: its first heading (or file name) is the
    /// title and `corpus://<file>` its url.
    ///
    /// - Throws: ``ProviderError`` `notFound` when the folder cannot be read.
    public static func load(folder: String) throws(ProviderError) -> Corpus {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder)
        } catch {
            throw ProviderError(.notFound, "cannot read the corpus folder '\(folder)': \(error.localizedDescription)", provider: providerName)
        }
        var documents: [CorpusDocument] = []
        for name in names.sorted() where name.hasSuffix(".md") || name.hasSuffix(".txt") {
            let path = folder.hasSuffix("/") ? folder + name : folder + "/" + name
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ProviderError(.notFound, "cannot read corpus document '\(path)'", provider: providerName)
            }
            documents.append(parse(String(decoding: data, as: UTF8.self), file: name))
        }
        return Corpus(documents: documents)
    }

    /// Splits front matter (`key: value` lines between `---` fences) from the body.
    public static func parse(_ text: String, file: String) -> CorpusDocument {
        var fields: [String: String] = [:]
        var body = Substring(text)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.first?.trimmingCharacters(in: .whitespaces) == "---",
            let end = lines.dropFirst().firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "---" })
        {
            for line in lines[1..<end] {
                guard let colon = line.firstIndex(of: ":") else { continue }
                let key = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
                var value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
                fields[key] = value
            }
            body = Substring(lines[(end + 1)...].joined(separator: "\n"))
        }
        let trimmedBody = body.trimmingCharacters(in: .whitespacesAndNewlines)
        let heading = trimmedBody.split(separator: "\n").first { $0.hasPrefix("# ") }.map { String($0.dropFirst(2)) }
        let stem = file.split(separator: ".").dropLast().joined(separator: ".")
        return CorpusDocument(
            title: fields["title"] ?? heading ?? stem,
            url: fields["url"] ?? "corpus://\(file)",
            date: fields["date"] ?? fields["published"],
            body: trimmedBody,
            file: file
        )
    }
}
