/// Reads the tags of a Mustache template to find the names it uses and its syntax errors.
///
/// swift-mustache does not expose its parsed tokens, and its errors carry a line and column
/// but no offset and no wording fit for a plan author, so we scan the tags ourselves. The
/// grammar follows swift-mustache 2.1.1 exactly where it matters (name characters, set
/// delimiters, where a triple mustache's third brace goes), so a template this scanner
/// accepts is one the library compiles (a randomized test holds it to that). On top of that
/// it refuses what plans do not support: partials, template inheritance, pragmas,
/// swift-mustache's transforms, and two shapes the library gets wrong (see `scanTag`).
struct TemplateScanner {
    private let characters: [Character]
    private var position = 0
    private var openDelimiter: [Character] = ["{", "{"]
    private var closeDelimiter: [Character] = ["}", "}"]
    /// The sections open at `position`, innermost last.
    private var openSections: [(name: String, offset: Int, bodyStart: Int)] = []
    private var references: [TemplateReference] = []
    /// Where the text after the last tag starts.
    private var endOfLastTag = 0
    /// How long a piece of the template must at least be before the next split (see `Chunk`).
    private let chunkLength: Int
    /// The pieces closed so far.
    private var chunks: [Chunk] = []
    /// Where the open piece starts.
    private var chunkStart = 0
    /// Whether the current line so far holds text other than whitespace, or an interpolation
    /// tag: then no tag on it is standalone, whatever comes before or after.
    private var lineHasContent = false
    /// False after a set-delimiter tag: the new delimiters hold to the end, so the rest cannot
    /// be compiled apart from it.
    private var canSplit = true

    /// What a scan finds.
    struct Result {
        /// Every name the template looks up, in source order.
        var references: [TemplateReference]
        /// Whether the template ends with text that swift-mustache 2.1.1 mishandles without a
        /// line break after it (see `PlanTemplate.init`): either the last line holds no tag and
        /// is not empty, or the text after the last tag holds more than whitespace.
        var needsGuardLineBreak: Bool
        /// The template cut into pieces that compile and render apart, in order; together
        /// they render exactly what the whole template renders.
        var chunks: [Chunk]
    }

    /// A piece of the template that swift-mustache can compile on its own.
    ///
    /// swift-mustache 2.1.1 measures the rest of its input (`String.distance`, which walks
    /// every character) at each tag and at each `{` in text, so one template with thousands
    /// of tags takes quadratic time (20,000 tags: over a minute). Compiling pieces of bounded
    /// length keeps that linear. A piece ends only where cutting changes nothing: outside
    /// every section, with the original delimiters, and inside a line that has content
    /// (text or an interpolation) both before and after the cut, so no tag on that line is
    /// standalone in the whole template or in either piece.
    struct Chunk: Equatable {
        var range: Range<Int>
        /// Whether the piece needs the guard line break (see `PlanTemplate.init`).
        var needsGuardLineBreak: Bool
    }

    /// - Parameter chunkLength: the least length of a piece before the template is cut again.
    init(_ characters: [Character], chunkLength: Int = 512) {
        self.characters = characters
        self.chunkLength = max(1, chunkLength)
    }

    /// The characters swift-mustache accepts in a name (without the transform brackets).
    private static let nameCharacters = Set<Character>(
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-_?*")

    /// Scans the whole template.
    /// - Throws: `TemplateError` at the first syntax error or unsupported tag.
    mutating func scan() throws(TemplateError) -> Result {
        while let tagStart = find(openDelimiter, from: position) {
            scanText(position..<tagStart)
            position = tagStart + openDelimiter.count
            let referenceCount = references.count
            try scanTag(startingAt: tagStart)
            let isInterpolation = references.count > referenceCount && !(references.last?.isSection ?? true)
            if isInterpolation, lineHasContent, openSections.isEmpty { split(at: tagStart) }
            if isInterpolation { lineHasContent = true }
            // A tag across lines: be safe and treat the line it ends on as empty so far.
            if characters[tagStart..<position].contains(where: TemplateError.isLineBreak) { lineHasContent = false }
            endOfLastTag = position
        }
        if let unclosed = openSections.last {
            throw error("section '\(unclosed.name)' is never closed", at: unclosed.offset)
        }
        scanText(position..<characters.count)
        chunks.append(Chunk(range: chunkStart..<characters.count, needsGuardLineBreak: needsGuard(chunkStart..<characters.count)))
        return Result(
            references: references, needsGuardLineBreak: needsGuard(0..<characters.count), chunks: chunks)
    }

    /// Whether the text of `range` ends with what swift-mustache mishandles (see `Result`).
    private func needsGuard(_ range: Range<Int>) -> Bool {
        let lastLineStart = (characters[range].lastIndex(where: TemplateError.isLineBreak) ?? range.lowerBound - 1) + 1
        // Pieces are cut before a tag or inside text, so the last tag seen is the piece's last.
        let lastTagEnd = max(endOfLastTag, range.lowerBound)
        return lastTagEnd <= lastLineStart
            ? lastLineStart < range.upperBound
            : characters[lastTagEnd..<range.upperBound].contains { !$0.isWhitespace }
    }

    /// Follows the text between two tags, cutting a piece where that is safe.
    private mutating func scanText(_ range: Range<Int>) {
        for index in range {
            let character = characters[index]
            if TemplateError.isLineBreak(character) {
                lineHasContent = false
            } else if !character.isWhitespace {
                if lineHasContent, openSections.isEmpty { split(at: index) }
                lineHasContent = true
            }
        }
    }

    /// Ends the open piece before `index` when it is long enough.
    private mutating func split(at index: Int) {
        guard canSplit, index - chunkStart >= chunkLength else { return }
        chunks.append(Chunk(range: chunkStart..<index, needsGuardLineBreak: needsGuard(chunkStart..<index)))
        chunkStart = index
    }

    // MARK: - Tags

    /// Reads one tag whose opening delimiter starts at `tagStart`; `position` is just past it.
    private mutating func scanTag(startingAt tagStart: Int) throws(TemplateError) {
        guard position < characters.count else {
            throw error("tag is never closed: expected '\(String(closeDelimiter))'", at: tagStart)
        }
        let sigil = characters[position]
        switch sigil {
        case "!":
            guard let end = find(closeDelimiter, from: position + 1) else {
                throw error("comment is never closed: expected '\(String(closeDelimiter))'", at: tagStart)
            }
            position = end + closeDelimiter.count
        case "=":
            // The spec keeps new delimiters to the end of the template; swift-mustache 2.1.1
            // restores the old ones when the enclosing section ends. Allowing the change only
            // outside sections leaves no room for the two to disagree.
            guard openSections.isEmpty else {
                throw error("delimiters can only be changed outside sections", at: tagStart)
            }
            position += 1
            try scanSetDelimiters(tagStart: tagStart)
            canSplit = false
        case "#", "^":
            position += 1
            let name = try scanName(tagStart: tagStart)
            guard openSections.count < PlanTemplate.maxSectionDepth else {
                throw error("sections nest deeper than \(PlanTemplate.maxSectionDepth)", at: tagStart)
            }
            try record(name, at: tagStart, isSection: true)
            openSections.append((name, tagStart, position))
        case "/":
            position += 1
            let name = try scanName(tagStart: tagStart)
            guard let open = openSections.popLast() else {
                throw error("closing tag '\(name)' has no open section", at: tagStart)
            }
            guard open.name == name else {
                throw error("closing tag '\(name)' does not match the open section '\(open.name)'", at: tagStart)
            }
            // swift-mustache 2.1.1 finds a section's text by stepping back two characters from
            // the closing tag, which lands before the section with a one-character delimiter and
            // an empty body, and traps. Refuse that shape instead of crashing the process.
            if openDelimiter.count == 1, characters[open.bodyStart..<tagStart].allSatisfy(\.isWhitespace) {
                throw error(
                    "section '\(name)' is empty, which one-character delimiters do not support", at: open.offset)
            }
        case "{":
            position += 1
            let name = try scanName(tagStart: tagStart)
            // swift-mustache wants the third brace after the closing delimiter: `{{{x}}}` reads as
            // `{{{x` + `}}` + `}`, so with other delimiters it is `<%{x%>}`.
            guard position < characters.count, characters[position] == "}" else {
                throw error("triple mustache is missing its third closing brace", at: tagStart)
            }
            position += 1
            try record(name, at: tagStart, isSection: false)
        case "&":
            position += 1
            let name = try scanName(tagStart: tagStart)
            try record(name, at: tagStart, isSection: false)
        case ">":
            throw error("partials are not supported in plan templates", at: tagStart)
        case "<", "$":
            throw error("template inheritance is not supported in plan templates", at: tagStart)
        case "%":
            throw error("pragmas are not supported in plan templates", at: tagStart)
        default:
            let name = try scanName(tagStart: tagStart)
            try record(name, at: tagStart, isSection: false)
        }
    }

    /// Reads `  name  ` and the closing delimiter; `position` ends just past the delimiter.
    private mutating func scanName(tagStart: Int) throws(TemplateError) -> String {
        skipWhitespace()
        let nameStart = position
        while position < characters.count, Self.nameCharacters.contains(characters[position]) {
            position += 1
        }
        let name = String(characters[nameStart..<position])
        skipWhitespace()
        if matches(closeDelimiter, at: position) {
            position += closeDelimiter.count
            guard !name.isEmpty else { throw error("tag has no name", at: tagStart) }
            return name
        }
        guard position < characters.count, find(closeDelimiter, from: position) != nil else {
            throw error("tag is never closed: expected '\(String(closeDelimiter))'", at: tagStart)
        }
        let unexpected = characters[position]
        if unexpected == "(" || unexpected == ")" {
            throw error("transforms such as 'name(value)' are not supported in plan templates", at: position)
        }
        throw error("unexpected '\(unexpected)' in tag: expected a name and '\(String(closeDelimiter))'", at: position)
    }

    /// Reads the rest of `{{=<start> <end>=}}`; `position` is just past the first `=`.
    private mutating func scanSetDelimiters(tagStart: Int) throws(TemplateError) {
        let usage = "set-delimiter tag must look like '\(String(openDelimiter))=<start> <end>=\(String(closeDelimiter))'"
        skipWhitespace()
        let start = readDelimiter()
        skipWhitespace()
        let end = readDelimiter()
        skipWhitespace()
        guard !start.isEmpty, !end.isEmpty, position < characters.count, characters[position] == "=",
            matches(closeDelimiter, at: position + 1)
        else {
            throw error(usage, at: tagStart)
        }
        position += 1 + closeDelimiter.count
        openDelimiter = start
        closeDelimiter = end
    }

    /// Reads a delimiter: characters up to whitespace or `=`.
    private mutating func readDelimiter() -> [Character] {
        let start = position
        while position < characters.count, !characters[position].isWhitespace, characters[position] != "=" {
            position += 1
        }
        return Array(characters[start..<position])
    }

    /// Records a name the template looks up, checking its dotted form.
    private mutating func record(_ name: String, at tagStart: Int, isSection: Bool) throws(TemplateError) {
        let path: [String]
        if name == "." {
            path = []
        } else {
            path = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard !path.contains(where: \.isEmpty) else {
                throw error("invalid name '\(name)': each part of a dotted name must be non-empty", at: tagStart)
            }
        }
        references.append(
            TemplateReference(
                path: path, offset: tagStart, sectionDepth: openSections.count, isSection: isSection,
                enclosingSections: openSections.map(\.name)))
    }

    // MARK: - Characters

    private mutating func skipWhitespace() {
        while position < characters.count, characters[position].isWhitespace { position += 1 }
    }

    private func matches(_ needle: [Character], at index: Int) -> Bool {
        guard index + needle.count <= characters.count else { return false }
        for (offset, character) in needle.enumerated() where characters[index + offset] != character {
            return false
        }
        return true
    }

    /// The first index at or after `start` where `needle` begins.
    private func find(_ needle: [Character], from start: Int) -> Int? {
        var index = start
        while index + needle.count <= characters.count {
            if matches(needle, at: index) { return index }
            index += 1
        }
        return nil
    }

    private func error(_ message: String, at offset: Int) -> TemplateError {
        TemplateError(message, at: offset, in: characters)
    }
}
