import Foundation

/// BM25 ranking over a corpus: titles count twice, so a query word in a headline weighs more.
struct CorpusIndex: Sendable {
    private static let k1 = 1.2
    private static let b = 0.75
    private static let stopwords: Set<String> = [
        "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "is", "it", "of", "on",
        "or", "that", "the", "this", "to", "was", "were", "with", "what", "how", "about", "its", "into",
    ]

    private let termFrequencies: [[String: Int]]
    private let lengths: [Int]
    private let averageLength: Double
    private let documentFrequency: [String: Int]

    init(_ corpus: Corpus) {
        var frequencies: [[String: Int]] = []
        var documentFrequency: [String: Int] = [:]
        for document in corpus.documents {
            let terms = Self.terms(document.title) + Self.terms(document.title) + Self.terms(document.body)
            var counts: [String: Int] = [:]
            for term in terms { counts[term, default: 0] += 1 }
            for term in counts.keys { documentFrequency[term, default: 0] += 1 }
            frequencies.append(counts)
        }
        self.termFrequencies = frequencies
        self.lengths = frequencies.map { $0.values.reduce(0, +) }
        self.averageLength = lengths.isEmpty ? 1 : max(1, Double(lengths.reduce(0, +)) / Double(lengths.count))
        self.documentFrequency = documentFrequency
    }

    /// The score of each document for `query` (0 when no query term occurs in it).
    func scores(for query: String) -> [Double] {
        let queryTerms = Set(Self.terms(query))
        let count = Double(termFrequencies.count)
        return termFrequencies.indices.map { index in
            var score = 0.0
            for term in queryTerms {
                guard let frequency = termFrequencies[index][term].map(Double.init), let df = documentFrequency[term] else { continue }
                let idf = log(1 + (count - Double(df) + 0.5) / (Double(df) + 0.5))
                let norm = frequency + Self.k1 * (1 - Self.b + Self.b * Double(lengths[index]) / averageLength)
                score += idf * frequency * (Self.k1 + 1) / norm
            }
            return score
        }
    }

    /// Lowercased words, without stopwords; a trailing plural `s` is dropped so "agents" finds "agent".
    static func terms(_ text: String) -> [String] {
        text.lowercased()
            .split { !($0.isLetter || $0.isNumber) }
            .map { word in word.count > 3 && word.hasSuffix("s") && !word.hasSuffix("ss") ? String(word.dropLast()) : String(word) }
            .filter { !stopwords.contains($0) }
    }
}
