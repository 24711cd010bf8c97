import Foundation

/// Deterministic placeholder prose for the simulated model: readable, on the prompt's topic,
/// and plainly marked as simulated.
enum SimulatedText {
    private static let stopwords: Set<String> = [
        "about", "above", "after", "again", "against", "their", "there", "these", "those", "which", "while",
        "would", "should", "could", "write", "section", "report", "based", "using", "following", "include",
        "return", "given", "other", "every", "under", "where", "within", "without", "please", "short",
        "paragraph", "paragraphs", "markdown", "title", "words", "output", "format", "answer", "simulated",
        "bullet", "points", "point", "executive", "summary", "overview", "major", "events", "sources", "source",
        "claim", "claims", "cited", "citations", "without", "heading", "important", "covers", "request",
    ]

    /// The subject of a prompt, best first: the text of a `Task:`/`Request:`/`Topic:`/`Question:`
    /// line; a Markdown `# heading`; the line after a first line ending in a colon; the words after "on"/"about"/"for"
    /// in the first sentence; its first words. At most ten words, cut at punctuation, without
    /// any `[simulated]` marker copied from earlier simulated answers.
    static func topic(of prompt: String) -> String {
        let lines = prompt.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let labels = ["task:", "request:", "topic:", "question:", "subject:"]
        if let labelled = lines.first(where: { line in labels.contains { line.lowercased().hasPrefix($0) } }),
            let colon = labelled.firstIndex(of: ":")
        {
            return clean(String(labelled[labelled.index(after: colon)...]))
        }
        if let heading = lines.first(where: { $0.hasPrefix("# ") }) {
            let text = heading.dropFirst(2)
            // "Overview: AI agents" is about AI agents.
            return clean(text.range(of: ": ").map { String(text[$0.upperBound...]) } ?? String(text))
        }
        if let first = lines.first, first.hasSuffix(":"), lines.count > 1 {
            return clean(lines[1])
        }
        let firstSentence = lines.first?.split(whereSeparator: { $0 == "." || $0 == "?" }).first.map(String.init) ?? prompt
        let words = firstSentence.split(separator: " ").map(String.init)
        let markers: Set<String> = ["on", "about", "for", "regarding"]
        if let marker = words.firstIndex(where: { markers.contains($0.lowercased()) }), marker + 1 < words.count {
            return clean(words[(marker + 1)...].joined(separator: " "))
        }
        return clean(firstSentence)
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

    /// Fields a prompt describes as `- name (type, …): description` lines, with JSON types.
    static func describedFields(in prompt: String) -> [(name: String, type: String)] {
        let types: Set<String> = ["string", "integer", "number", "boolean", "array", "object"]
        return prompt.split(separator: "\n").compactMap { line in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("- "), let open = trimmed.firstIndex(of: "(") else { return nil }
            let name = trimmed[trimmed.index(trimmed.startIndex, offsetBy: 2)..<open].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { return nil }
            let type = trimmed[trimmed.index(after: open)...].prefix { $0.isLetter }.lowercased()
            return (name, types.contains(type) ? type : "string")
        }
    }

    /// The sentences of the first `\"\"\"`-quoted block of a prompt (a document excerpt).
    static func quotedSentences(in prompt: String) -> [String] {
        let parts = prompt.components(separatedBy: "\"\"\"")
        guard parts.count >= 3 else { return [] }
        return parts[1]
            .split(whereSeparator: { $0 == "\n" })
            .flatMap { $0.components(separatedBy: ". ") }
            .map { $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "**", with: "") }
            .filter { $0.count >= 30 && !$0.hasPrefix("#") }
    }

    /// Numbered sources listed in a prompt as `[n] Title (url, date): snippet` lines.
    static func sources(in prompt: String) -> [(number: String, title: String)] {
        prompt.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("["), let close = line.firstIndex(of: "]") else { return nil }
            let number = line[line.index(after: line.startIndex)..<close]
            guard !number.isEmpty, number.allSatisfy(\.isNumber) else { return nil }
            let rest = line[line.index(after: close)...].trimmingCharacters(in: .whitespaces)
            let title = rest.split(separator: " (", maxSplits: 1).first.map(String.init) ?? rest
            return title.isEmpty ? nil : (String(number), title)
        }
    }

    /// A few paragraphs about the prompt's topic; `seed` varies the order between calls. When the
    /// prompt lists numbered sources, the text cites some of them as `[n]`.
    static func paragraphs(for prompt: String, seed: UInt64, maxWords: Int? = nil) -> String {
        let topic = topic(of: prompt)
        let k = keywords(of: topic + " " + prompt)
        var sentences = [
            "Across the period covered, \(k[0]) and \(k[1]) stood out as the main threads.",
            "Several sources point to steady progress in \(k[0]), while questions about \(k[2]) remain open.",
            "Teams working on \(k[1]) reported new releases, partnerships and early customer results.",
            "The picture is still moving: what looks settled about \(k[3]) today may change within weeks.",
            "The practical takeaway is to watch \(k[2]) closely and to compare claims with independent evidence.",
        ]
        let sources = sources(in: prompt)
        if !sources.isEmpty {
            let openers = ["One development stood out:", "Also notable:", "Meanwhile:", "Elsewhere:"]
            let offset = Int(seed % UInt64(sources.count))
            for index in 0..<min(3, sources.count) {
                let source = sources[(offset + index) % sources.count]
                sentences.insert("\(openers[index]) \(source.title) [\(source.number)].", at: min(sentences.count, 1 + index * 2))
            }
        }
        let rotation = Int(seed % UInt64(sentences.count))
        let ordered = [("This part looks at \(topic).")] + Array(sentences[rotation...] + sentences[..<rotation])
        let half = (ordered.count + 1) / 2
        var text = "[simulated] " + ordered.prefix(half).joined(separator: " ") + "\n\n" + ordered.dropFirst(half).joined(separator: " ")
            + "\n\n(Written by Sluice's offline simulated model; no real model was called.)"
        if let maxWords, maxWords > 0 {
            let words = text.split(separator: " ", omittingEmptySubsequences: false)
            if words.count > maxWords { text = words.prefix(maxWords).joined(separator: " ") }
        }
        return text
    }

    private static func clean(_ text: String) -> String {
        var text = text.replacingOccurrences(of: "[simulated]", with: "")
        if let stop = text.firstIndex(where: { "(,;:[\"".contains($0) }) { text = String(text[..<stop]) }
        let words = text.split(separator: " ").prefix(10).joined(separator: " ")
        let trimmed = words.trimmingCharacters(in: .whitespacesAndNewlines.union(.punctuationCharacters))
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
