import Foundation
import Synchronization

/// Search over a local ``Corpus`` with BM25; results are marked provider `corpus`.
///
/// `days` counts back from the newest document's date, not from the wall clock, so the sample
/// corpus gives the same results whenever it is run. A query that matches no document returns
/// the newest documents instead, so an offline run always has sources to show.
public struct CorpusSearchProvider: SearchProvider {
    public let corpus: Corpus
    /// The index and each document's snippet, made once, at the first search: building them
    /// is a noticeable part of an offline `sluice run`'s start, which its first event need not
    /// wait for (and a plan that never searches never pays).
    private let prepared: Prepared

    private final class Prepared: Sendable {
        let state = Mutex<(index: CorpusIndex, snippets: [String])?>(nil)

        func get(_ corpus: Corpus) -> (index: CorpusIndex, snippets: [String]) {
            state.withLock { state in
                if let state { return state }
                let built = (index: CorpusIndex(corpus), snippets: corpus.documents.map { CorpusSearchProvider.snippet($0.body) })
                state = built
                return built
            }
        }
    }

    public init(corpus: Corpus) {
        self.corpus = corpus
        self.prepared = Prepared()
    }

    public func search(_ query: SearchQuery) async throws -> [SearchResult] {
        try Task.checkCancellation()
        let (index, snippets) = prepared.get(corpus)
        let scores = index.scores(for: query.text)
        let newest = corpus.documents.compactMap(\.date).max()
        let cutoff = query.days.flatMap { days in newest.flatMap { Self.date($0, minusDays: days) } }
        var candidates = corpus.documents.indices.filter { index in
            guard let cutoff else { return true }
            return (corpus.documents[index].date ?? "") >= cutoff
        }
        let matching = candidates.filter { scores[$0] > 0 }
        if matching.isEmpty {
            candidates.sort { (corpus.documents[$0].date ?? "", $1) > (corpus.documents[$1].date ?? "", $0) }
        } else {
            candidates = matching.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
        }
        return candidates.prefix(max(0, query.maxResults)).map { index in
            let document = corpus.documents[index]
            return SearchResult(
                title: document.title,
                url: document.url,
                snippet: snippets[index],
                published: document.date,
                provider: Corpus.providerName
            )
        }
    }

    /// The first paragraph that is not a heading, cut at about 240 characters.
    static func snippet(_ body: String) -> String {
        let paragraph = body.components(separatedBy: "\n\n")
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .first { !$0.isEmpty && !$0.hasPrefix("#") } ?? ""
        let flat = paragraph.replacingOccurrences(of: "\n", with: " ")
        guard flat.count > 240 else { return flat }
        let cut = flat.prefix(240)
        return (cut.lastIndex(of: " ").map { String(cut[..<$0]) } ?? String(cut)) + "…"
    }

    /// `YYYY-MM-DD` minus `days`, or nil when `date` is not in that form.
    static func date(_ date: String, minusDays days: Int) -> String? {
        let parts = date.prefix(10).split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3 else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        guard let day = calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2])),
            let earlier = calendar.date(byAdding: .day, value: -days, to: day)
        else { return nil }
        let c = calendar.dateComponents([.year, .month, .day], from: earlier)
        guard let y = c.year, let m = c.month, let d = c.day else { return nil }
        return String(format: "%04d-%02d-%02d", y, m, d)
    }
}

/// Fetch for `--offline`: a corpus document by its url.
public struct CorpusFetchProvider: FetchProvider {
    public let corpus: Corpus

    public init(corpus: Corpus) {
        self.corpus = corpus
    }

    public func fetch(url: String, maxBytes: Int?) async throws -> FetchedPage {
        try Task.checkCancellation()
        guard let document = corpus.documents.first(where: { $0.url == url }) else {
            throw ProviderError(.notFound, "'\(url)' is not in the offline corpus (offline runs fetch corpus documents only)", provider: Corpus.providerName)
        }
        var text = document.body
        if let maxBytes, text.utf8.count > maxBytes {
            text = String(decoding: text.utf8.prefix(maxBytes), as: UTF8.self)
        }
        return FetchedPage(url: document.url, title: document.title, text: text)
    }
}
