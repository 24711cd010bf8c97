/// Reading JSON out of an answer that was not only JSON, and noticing an answer that loops.
public enum AnswerText {
    /// The JSON a structured answer holds: the text itself, the inside of a Markdown code
    /// fence, or the first complete object or array when prose comes before or after it.
    /// Returns `text` unchanged when it holds no complete object or array (the parser then
    /// reports what is wrong with it).
    public static func jsonCandidate(in text: String) -> Substring {
        var body = Substring(text)
        if let fenced = fenceContents(body) { body = fenced }
        let bytes = Array(body.utf8)
        guard let start = bytes.firstIndex(where: { $0 == UInt8(ascii: "{") || $0 == UInt8(ascii: "[") }),
            let end = endOfValue(bytes, from: start)
        else { return body }
        let utf8 = body.utf8
        let lower = utf8.index(utf8.startIndex, offsetBy: start)
        let upper = utf8.index(utf8.startIndex, offsetBy: end)
        return body[lower..<upper]
    }

    /// What lies between a leading ```` ``` ```` line (with or without a language) and the next
    /// fence; nil when the text does not start with a fence.
    static func fenceContents(_ text: Substring) -> Substring? {
        let trimmed = text.drop { $0.isWhitespace }
        guard trimmed.hasPrefix("```") else { return nil }
        guard let newline = trimmed.firstIndex(of: "\n") else { return nil }
        let inside = trimmed[trimmed.index(after: newline)...]
        guard let close = inside.firstRange(of: "```") else { return inside }
        return inside[..<close.lowerBound]
    }

    /// The offset just past the object or array starting at `start`, or nil when it does not end.
    static func endOfValue(_ bytes: [UInt8], from start: Int) -> Int? {
        var depth = 0
        var inString = false
        var escaped = false
        var index = start
        while index < bytes.count {
            let byte = bytes[index]
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
            } else {
                switch byte {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return index + 1 }
                default: break
                }
            }
            index += 1
        }
        return nil
    }
}

/// Notices a streamed answer that has fallen into a loop: its end is one span of text
/// repeated back to back. Conservative on purpose, so that tables, lists and refrains in
/// real answers never trip it: the repeating run must cover at least ``minimumRun`` bytes
/// and at least ``minimumRepeats`` copies of a span of at most ``maximumSpan`` bytes.
struct RepetitionDetector {
    static let minimumRun = 2048
    static let minimumRepeats = 8
    static let maximumSpan = 512
    /// Looks again after this many new bytes (not on every delta: each look is O(span × run)).
    static let checkEvery = 256

    private var nextCheck = RepetitionDetector.minimumRun

    /// True when `text` now ends in a loop.
    mutating func isLooping(_ text: String) -> Bool {
        let count = text.utf8.count
        guard count >= nextCheck else { return false }
        nextCheck = count + Self.checkEvery
        let window = Array(text.utf8.suffix(Self.minimumRun + Self.maximumSpan * 2))
        return Self.endsInLoop(window)
    }

    /// Whether `bytes` ends with a span repeated back to back over at least ``minimumRun`` bytes.
    static func endsInLoop(_ bytes: [UInt8]) -> Bool {
        let count = bytes.count
        guard count >= minimumRun else { return false }
        for span in 1...min(maximumSpan, count / minimumRepeats) {
            // The run of bytes equal to the byte `span` before them, counted back from the end.
            var run = 0
            var index = count - 1
            while index >= span, bytes[index] == bytes[index - span] {
                run += 1
                index -= 1
            }
            let covered = run + span
            if covered >= minimumRun, covered >= span * minimumRepeats { return true }
        }
        return false
    }
}
