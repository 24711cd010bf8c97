import Foundation

/// `list.relevant(query, k)`: the `k` elements of a list most relevant to `query`, by BM25
/// over each element's text (a string element is its own text; a map's text is every string
/// value in it, so a source's title and snippet count). Kept in their original order, so
/// numbered sources stay in number order; elements matching nothing fill the remaining places
/// in order, so a section with unusual wording still gets `k` sources.
///
/// This is how a plan hands each model call the evidence that concerns it instead of all of it
/// (a report's sections each get their own sources): the prompt shrinks, the answer does not
/// get worse. Pure and deterministic, as every CEL function; the cost is charged per token.
enum CELRelevance {
    /// BM25's usual constants: term-frequency saturation and length normalisation.
    static let k1 = 1.2
    static let b = 0.75

    static func relevant(_ list: [CELValue], query: String, count: Int) -> (selected: [CELValue], cost: Int) {
        guard count < list.count else { return (list, list.count) }
        guard count > 0 else { return ([], 0) }
        let documents = list.map { terms(of: text(of: $0)) }
        let queryTerms = Set(terms(of: query))
        var cost = queryTerms.count
        var documentFrequency: [Substring: Int] = [:]
        var frequencies: [[Substring: Int]] = []
        frequencies.reserveCapacity(documents.count)
        for document in documents {
            cost += document.count
            var counts: [Substring: Int] = [:]
            for term in document where queryTerms.contains(term) { counts[term, default: 0] += 1 }
            for term in counts.keys { documentFrequency[term, default: 0] += 1 }
            frequencies.append(counts)
        }
        let averageLength = max(1, Double(documents.reduce(0) { $0 + $1.count }) / Double(documents.count))
        let total = Double(documents.count)
        var scores: [(index: Int, score: Double)] = []
        for (index, counts) in frequencies.enumerated() {
            let length = Double(documents[index].count)
            var score = 0.0
            for (term, frequency) in counts {
                let containing = Double(documentFrequency[term] ?? 0)
                let idf = log(1 + (total - containing + 0.5) / (containing + 0.5))
                let tf = Double(frequency)
                score += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / averageLength))
            }
            scores.append((index, score))
        }
        // Highest score first, earlier element first among equals; then back in list order.
        let chosen = scores.sorted { $0.score != $1.score ? $0.score > $1.score : $0.index < $1.index }.prefix(count).map(\.index).sorted()
        return (chosen.map { list[$0] }, cost)
    }

    /// The searchable text of an element: its string, or the strings inside a map or list.
    static func text(of value: CELValue) -> String {
        switch value {
        case .string(let string): return string
        case .list(let items): return items.map(text(of:)).joined(separator: " ")
        case .map(let map): return map.entries.map { text(of: $0.value) }.joined(separator: " ")
        default: return ""
        }
    }

    /// Lowercased words of letters and digits; each Han, kana or Hangul character is a term of
    /// its own and so is each pair of neighbours (those scripts are written without spaces).
    static func terms(of text: String) -> [Substring] {
        var terms: [Substring] = []
        let lowered = text.lowercased()
        var wordStart: String.Index?
        var previousIdeograph: String.Index?
        let utf8 = lowered.utf8
        var index = lowered.startIndex
        while index < lowered.endIndex {
            // An ASCII byte (not CR, which joins a following LF) followed by another ASCII
            // byte or the end is a character of its own: decide it from the byte, without
            // the grapheme breaking and Unicode property lookups (most of the time here).
            let byte = utf8[index]
            let afterByte = utf8.index(after: index)
            if byte < 0x80, byte != 0x0D, afterByte == utf8.endIndex || utf8[afterByte] < 0x80 {
                previousIdeograph = nil
                if (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) {
                    if wordStart == nil { wordStart = index }
                } else if let start = wordStart {
                    appendWord(lowered[start..<index], to: &terms)
                    wordStart = nil
                }
                index = afterByte
                continue
            }
            let character = lowered[index]
            let next = lowered.index(after: index)
            if isIdeograph(character) {
                if let start = wordStart { appendWord(lowered[start..<index], to: &terms) }
                wordStart = nil
                terms.append(lowered[index..<next])
                if let previous = previousIdeograph { terms.append(lowered[previous..<next]) }
                previousIdeograph = index
            } else {
                previousIdeograph = nil
                if character.isLetter || character.isNumber {
                    if wordStart == nil { wordStart = index }
                } else if let start = wordStart {
                    appendWord(lowered[start..<index], to: &terms)
                    wordStart = nil
                }
            }
            index = next
        }
        if let start = wordStart { appendWord(lowered[start...], to: &terms) }
        return terms
    }

    private static func appendWord(_ word: Substring, to terms: inout [Substring]) {
        if word.count > 1, !stopWords.contains(word) { terms.append(word) }
    }

    private static func isIdeograph(_ character: Character) -> Bool {
        guard let scalar = character.unicodeScalars.first else { return false }
        switch scalar.value {
        case 0x3040...0x30FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xAC00...0xD7AF, 0xF900...0xFAFF, 0x20000...0x2FA1F: return true
        default: return false
        }
    }

    /// English words too common to tell documents apart.
    static let stopWords: Set<Substring> = [
        "the", "and", "for", "with", "that", "this", "from", "are", "was", "were", "has", "have", "had", "its", "it's",
        "of", "in", "on", "at", "to", "by", "an", "or", "as", "is", "be", "it", "we", "our", "their", "they", "what",
        "which", "who", "how", "about", "into", "over", "new", "week", "this",
    ]
}
