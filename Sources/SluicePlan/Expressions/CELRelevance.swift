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
        var documentFrequency: [String: Int] = [:]
        var frequencies: [[String: Int]] = []
        frequencies.reserveCapacity(documents.count)
        for document in documents {
            cost += document.count
            var counts: [String: Int] = [:]
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
    static func terms(of text: String) -> [String] {
        var text = text
        if let terms = text.withUTF8({ asciiTerms(of: $0) }) { return terms }
        return unicodeTerms(of: text)
    }

    /// The terms of all-ASCII text (queries, some sources), nil for any other: cut and
    /// lowercased from the bytes, with no `lowercased()` copy of the text and no grapheme
    /// breaking. Each word is its own `String` — up to 15 bytes a small string, so no
    /// allocation — which hashes without the Unicode normalization a `Substring` of a
    /// lowercased string went through (that and `lowercased()` were most of `list.relevant`).
    private static func asciiTerms(of bytes: UnsafeBufferPointer<UInt8>) -> [String]? {
        for byte in bytes where byte >= 0x80 { return nil }
        var terms: [String] = []
        var wordStart = -1
        func endWord(at end: Int) {
            defer { wordStart = -1 }
            guard wordStart >= 0, end - wordStart > 1 else { return }
            let word = lowercasedASCII(UnsafeBufferPointer(rebasing: bytes[wordStart..<end]))
            if !stopWords.contains(word) { terms.append(word) }
        }
        for index in bytes.indices {
            let byte = bytes[index]
            if (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) {
                if wordStart < 0 { wordStart = index }
            } else if wordStart >= 0 {
                endWord(at: index)
            }
        }
        endWord(at: bytes.count)
        return terms
    }

    /// ASCII bytes as a lowercased string (a small string, no allocation, up to 15 bytes).
    private static func lowercasedASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        String(unsafeUninitializedCapacity: bytes.count) { buffer in
            for (offset, byte) in bytes.enumerated() { buffer[offset] = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte }
            return bytes.count
        }
    }

    /// The terms of text with any non-ASCII byte, character by character where it is not
    /// ASCII. Words are cut from the text as it is and lowercased one by one (an ASCII word
    /// from its bytes): lowercasing the whole text first was most of the time here, as
    /// sources' snippets nearly always hold some non-ASCII punctuation (an ellipsis, a dash).
    private static func unicodeTerms(of text: String) -> [String] {
        var terms: [String] = []
        var wordStart: String.Index?
        var wordIsASCII = true
        var previousIdeograph: String.Index?
        func endWord(at end: String.Index) {
            guard let start = wordStart else { return }
            wordStart = nil
            appendWord(text[start..<end], ascii: wordIsASCII, to: &terms)
        }
        let utf8 = text.utf8
        var index = text.startIndex
        while index < text.endIndex {
            // An ASCII byte (not CR, which joins a following LF) followed by another ASCII
            // byte or the end is a character of its own: decide it from the byte, without
            // the grapheme breaking and Unicode property lookups.
            let byte = utf8[index]
            let afterByte = utf8.index(after: index)
            if byte < 0x80, byte != 0x0D, afterByte == utf8.endIndex || utf8[afterByte] < 0x80 {
                previousIdeograph = nil
                if (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) {
                    if wordStart == nil {
                        wordStart = index
                        wordIsASCII = true
                    }
                } else {
                    endWord(at: index)
                }
                index = afterByte
                continue
            }
            let character = text[index]
            let next = text.index(after: index)
            if isIdeograph(character) {
                // Han, kana and Hangul have no case.
                endWord(at: index)
                terms.append(String(text[index..<next]))
                if let previous = previousIdeograph { terms.append(String(text[previous..<next])) }
                previousIdeograph = index
            } else {
                previousIdeograph = nil
                if character.isLetter || character.isNumber {
                    if wordStart == nil { wordStart = index }
                    wordIsASCII = false
                } else {
                    endWord(at: index)
                }
            }
            index = next
        }
        endWord(at: text.endIndex)
        return terms
    }

    /// Adds a word of two characters or more, lowercased, unless it is a stop word.
    private static func appendWord(_ word: Substring, ascii: Bool, to terms: inout [String]) {
        let lowered: String
        if ascii {
            guard word.utf8.count > 1 else { return }
            var word = word
            lowered = word.withUTF8 { lowercasedASCII($0) }
        } else {
            guard word.count > 1 else { return }
            lowered = word.lowercased()
        }
        if !stopWords.contains(lowered) { terms.append(lowered) }
    }

    private static func isIdeograph(_ character: Character) -> Bool {
        guard let scalar = character.unicodeScalars.first else { return false }
        switch scalar.value {
        case 0x3040...0x30FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xAC00...0xD7AF, 0xF900...0xFAFF, 0x20000...0x2FA1F: return true
        default: return false
        }
    }

    /// English words too common to tell documents apart.
    static let stopWords: Set<String> = [
        "the", "and", "for", "with", "that", "this", "from", "are", "was", "were", "has", "have", "had", "its", "it's",
        "of", "in", "on", "at", "to", "by", "an", "or", "as", "is", "be", "it", "we", "our", "their", "they", "what",
        "which", "who", "how", "about", "into", "over", "new", "week", "this",
    ]
}
