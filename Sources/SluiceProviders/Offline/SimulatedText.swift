import Foundation

/// Deterministic placeholder prose for the simulated model: readable, on the prompt's topic,
/// and plainly marked as simulated.
enum SimulatedText {
    private static let stopwords: Set<String> = [
        "about", "above", "after", "again", "against", "their", "there", "these", "those", "which", "while",
        "would", "should", "could", "write", "section", "report", "based", "using", "following", "include",
        "return", "given", "other", "every", "under", "where", "within", "without", "please", "short",
        "paragraph", "paragraphs", "markdown", "title", "words", "output", "format", "answer", "simulated",
    ]

    /// The subject of a prompt: the words after "on"/"about"/"for" in its first sentence, else its first words.
    static func topic(of prompt: String) -> String {
        let firstLine = prompt.split(whereSeparator: { $0 == "\n" || $0 == "." || $0 == "?" }).first.map(String.init) ?? prompt
        let words = firstLine.split(separator: " ").map(String.init)
        let markers: Set<String> = ["on", "about", "for", "of", "regarding"]
        if let marker = words.firstIndex(where: { markers.contains($0.lowercased()) }), marker + 1 < words.count {
            return clean(words[(marker + 1)...].prefix(6).joined(separator: " "))
        }
        return clean(words.prefix(6).joined(separator: " "))
    }

    /// Distinct longer words of the prompt, in order: what the placeholder text mentions.
    static func keywords(of prompt: String, limit: Int = 4) -> [String] {
        var seen: Set<String> = []
        var result: [String] = []
        for word in prompt.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "-") }) {
            let lowered = word.lowercased()
            guard lowered.count >= 5, !stopwords.contains(lowered), seen.insert(lowered).inserted else { continue }
            result.append(String(word))
            if result.count == limit { break }
        }
        while result.count < limit { result.append(["the field", "new products", "adoption", "open questions"][result.count]) }
        return result
    }

    /// A few paragraphs about the prompt's topic; `seed` varies the sentence order between calls.
    static func paragraphs(for prompt: String, seed: UInt64, maxWords: Int? = nil) -> String {
        let topic = topic(of: prompt)
        let k = keywords(of: prompt)
        let sentences = [
            "This part looks at \(topic).",
            "Across the period covered, \(k[0]) and \(k[1]) stood out as the main threads.",
            "Several sources point to steady progress in \(k[0]), while questions about \(k[2]) remain open.",
            "Teams working on \(k[1]) reported new releases, partnerships and early customer results.",
            "The picture is still moving: what looks settled about \(k[3]) today may change within weeks.",
            "The practical takeaway is to watch \(k[2]) closely and to compare claims with independent evidence.",
            "Analysts expect \(k[3]) to shape the next quarter more than any single announcement.",
        ]
        let rotation = Int(seed % UInt64(sentences.count))
        let ordered = Array(sentences[rotation...] + sentences[..<rotation])
        let first = ordered.prefix(4).joined(separator: " ")
        let second = ordered.dropFirst(4).joined(separator: " ")
        var text = "[simulated] " + first + "\n\n" + second
            + "\n\n(Written by Sluice's offline simulated model; no real model was called.)"
        if let maxWords, maxWords > 0 {
            let words = text.split(separator: " ", omittingEmptySubsequences: false)
            if words.count > maxWords { text = words.prefix(maxWords).joined(separator: " ") }
        }
        return text
    }

    private static func clean(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines.union(.punctuationCharacters))
        return trimmed.isEmpty ? "the topic" : trimmed
    }

    /// FNV-1a: a stable hash (Swift's `Hasher` is seeded per process, which would break determinism).
    static func stableHash(_ parts: String...) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for part in parts {
            for byte in part.utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x100_0000_01b3
            }
            hash ^= 0xff
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }
}
