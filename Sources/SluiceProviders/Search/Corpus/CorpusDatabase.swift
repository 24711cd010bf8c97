import Foundation
import GRDB

/// A local corpus indexed with SQLite FTS5, kept up to date incrementally: each
/// ``synchronize(folder:)`` re-reads only files whose modification time or size changed, adds
/// new ones and forgets deleted ones, so searching a large folder repeatedly stays cheap.
///
/// Documents are `.md`, `.txt` (front matter as in ``CorpusDocument``) and `.html` files
/// anywhere under the folder. Ranking is FTS5's BM25 with titles weighted twice.
///
/// #### Errors
/// ``ProviderError``: `notFound` (the folder or database cannot be read), `invalidResponse`
/// (a database error, with SQLite's message).
public final class CorpusDatabase: Sendable {
    private let database: DatabaseQueue
    public let path: String

    /// Opens (creating if needed) the index at `path`; its folder is created too.
    public init(path: String) throws(ProviderError) {
        self.path = path
        do {
            let folder = (path as NSString).deletingLastPathComponent
            if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
            database = try DatabaseQueue(path: path)
            try Self.migrator.migrate(database)
        } catch {
            throw ProviderError(.notFound, "cannot open the corpus index \(path): \(error)", provider: Corpus.providerName)
        }
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("corpus-v1") { db in
            try db.execute(sql: """
                CREATE TABLE corpus_document (
                    id INTEGER PRIMARY KEY,
                    folder TEXT NOT NULL, file TEXT NOT NULL,
                    modified REAL NOT NULL, size INTEGER NOT NULL,
                    title TEXT NOT NULL, url TEXT NOT NULL, date TEXT, body TEXT NOT NULL,
                    UNIQUE (folder, file));
                CREATE VIRTUAL TABLE corpus_fts USING fts5(
                    title, body, content='corpus_document', content_rowid='id',
                    tokenize='unicode61 remove_diacritics 2');
                CREATE TRIGGER corpus_document_inserted AFTER INSERT ON corpus_document BEGIN
                    INSERT INTO corpus_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
                END;
                CREATE TRIGGER corpus_document_deleted AFTER DELETE ON corpus_document BEGIN
                    INSERT INTO corpus_fts(corpus_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
                END;
                CREATE TRIGGER corpus_document_updated AFTER UPDATE ON corpus_document BEGIN
                    INSERT INTO corpus_fts(corpus_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
                    INSERT INTO corpus_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
                END;
                """)
        }
        return migrator
    }

    /// What a synchronization changed.
    public struct Changes: Sendable, Hashable {
        public var added = 0
        public var updated = 0
        public var removed = 0
    }

    /// Brings the index of `folder` up to date with the files on disk.
    @discardableResult
    public func synchronize(folder: String) async throws(ProviderError) -> Changes {
        let root = Self.canonical(folder)
        do {
            // GRDB runs the closure on its own queue, so the file reads never block a pool thread.
            return try await database.write { db in try Self.synchronize(root: root, db: db) }
        } catch let error as ProviderError {
            throw error
        } catch {
            throw ProviderError(.invalidResponse, "indexing the corpus \(folder) failed: \(error)", provider: Corpus.providerName)
        }
    }

    private static func synchronize(root: String, db: Database) throws -> Changes {
        let onDisk = try files(in: root)
        var known: [String: (id: Int64, modified: Double, size: Int64)] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT id, file, modified, size FROM corpus_document WHERE folder = ?", arguments: [root]) {
            known[row["file"]] = (row["id"], row["modified"], row["size"])
        }
        var changes = Changes()
        for (file, stamp) in onDisk {
            if let existing = known[file], existing.modified == stamp.modified, existing.size == stamp.size { continue }
            guard let data = FileManager.default.contents(atPath: root + "/" + file) else {
                throw ProviderError(.notFound, "cannot read corpus document '\(root)/\(file)'", provider: Corpus.providerName)
            }
            var text = String(decoding: data, as: UTF8.self)
            if file.lowercased().hasSuffix(".html") || file.lowercased().hasSuffix(".htm") { text = ReadableText.extract(text).text }
            let document = Corpus.parse(text, file: file)
            let arguments: StatementArguments = [stamp.modified, stamp.size, document.title, document.url, document.date, document.body]
            if let existing = known[file] {
                try db.execute(sql: "UPDATE corpus_document SET modified = ?, size = ?, title = ?, url = ?, date = ?, body = ? WHERE id = ?", arguments: arguments + [existing.id])
                changes.updated += 1
            } else {
                try db.execute(sql: "INSERT INTO corpus_document (folder, file, modified, size, title, url, date, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", arguments: [root, file] + arguments)
                changes.added += 1
            }
        }
        for (file, existing) in known where onDisk[file] == nil {
            try db.execute(sql: "DELETE FROM corpus_document WHERE id = ?", arguments: [existing.id])
            changes.removed += 1
        }
        return changes
    }

    /// Documents under `root` (relative paths) with their modification time and size.
    private static func files(in root: String) throws -> [String: (modified: Double, size: Int64)] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue,
            let enumerator = FileManager.default.enumerator(atPath: root)
        else {
            throw ProviderError(.notFound, "the corpus folder '\(root)' does not exist", provider: Corpus.providerName)
        }
        var found: [String: (Double, Int64)] = [:]
        while let file = enumerator.nextObject() as? String {
            let lowered = file.lowercased()
            guard [".md", ".txt", ".html", ".htm"].contains(where: lowered.hasSuffix) else { continue }
            let attributes = try FileManager.default.attributesOfItem(atPath: root + "/" + file)
            guard attributes[.type] as? FileAttributeType == .typeRegular else { continue }
            let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            let size = (attributes[.size] as? NSNumber)?.int64Value ?? 0
            found[file] = (modified, size)
        }
        return found
    }

    static func canonical(_ folder: String) -> String {
        let absolute = folder.hasPrefix("/") ? folder : FileManager.default.currentDirectoryPath + "/" + folder
        return (absolute as NSString).standardizingPath
    }

    // MARK: Search

    /// The best matches for `query` in `folder`'s documents (see ``CorpusFTSSearch``).
    func search(_ query: SearchQuery, folder: String) async throws(ProviderError) -> [SearchResult] {
        let root = Self.canonical(folder)
        let match = Self.matchExpression(query.text)
        do {
            return try await database.read { db in
                let newest = try String.fetchOne(db, sql: "SELECT MAX(date) FROM corpus_document WHERE folder = ?", arguments: [root])
                let cutoff = query.days.flatMap { days in newest.flatMap { CorpusSearchProvider.date($0, minusDays: days) } }
                let limit = max(0, query.maxResults)
                var rows: [Row] = []
                if let match {
                    rows = try Row.fetchAll(db, sql: """
                        SELECT d.title, d.url, d.date, d.body FROM corpus_fts JOIN corpus_document d ON d.id = corpus_fts.rowid
                        WHERE corpus_fts MATCH ? AND d.folder = ? AND (? IS NULL OR d.date >= ?)
                        ORDER BY bm25(corpus_fts, 2.0, 1.0), d.file LIMIT ?
                        """, arguments: [match, root, cutoff, cutoff, limit])
                }
                if rows.isEmpty {
                    // Nothing matched: the newest documents, so a run always has sources to show.
                    rows = try Row.fetchAll(db, sql: """
                        SELECT title, url, date, body FROM corpus_document
                        WHERE folder = ? AND (? IS NULL OR date >= ?) ORDER BY date DESC, file LIMIT ?
                        """, arguments: [root, cutoff, cutoff, limit])
                }
                return rows.map { row in
                    SearchResult(title: row["title"], url: row["url"], snippet: CorpusSearchProvider.snippet(row["body"]), published: row["date"], provider: Corpus.providerName)
                }
            }
        } catch {
            throw ProviderError(.invalidResponse, "searching the corpus failed: \(error)", provider: Corpus.providerName)
        }
    }

    /// The query's words as an FTS5 expression (`"a" OR "b"`), or nil when it has none.
    /// Quoting each word keeps FTS5 syntax in user text (`AND`, `*`, `:`) from being interpreted.
    static func matchExpression(_ text: String) -> String? {
        let words = text.lowercased().split { !($0.isLetter || $0.isNumber) }.map(String.init)
            .filter { $0.count > 1 && !stopwords.contains($0) }
        guard !words.isEmpty else { return nil }
        return Array(Set(words)).sorted().map { "\"\($0)\"" }.joined(separator: " OR ")
    }

    private static let stopwords: Set<String> = [
        "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "is", "it", "of", "on",
        "or", "that", "the", "this", "to", "was", "were", "with", "what", "how", "about", "its", "into",
    ]
}

/// Search over a folder of local documents with SQLite FTS5 (`SLUICE_CORPUS`), indexed into
/// `SLUICE_HOME/corpus.sqlite` and refreshed incrementally before each search.
///
/// `days` counts back from the newest document's date (as the offline corpus search does), and
/// a query matching nothing returns the newest documents.
public struct CorpusFTSSearch: SearchProvider {
    public let folder: String
    public let database: CorpusDatabase

    public init(folder: String, database: CorpusDatabase) {
        self.folder = folder
        self.database = database
    }

    public func search(_ query: SearchQuery) async throws -> [SearchResult] {
        try Task.checkCancellation()
        try await database.synchronize(folder: folder)
        return try await database.search(query, folder: folder)
    }
}
