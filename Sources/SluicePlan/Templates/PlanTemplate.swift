import Mustache
public import SluiceJSON

/// A Mustache template from a plan (a prompt, a progress message, the report), compiled once.
///
/// Templates render as plain text: `{{x}}` prints `<b>&` as `<b>&`, exactly like `{{{x}}}`.
/// Plans do not support partials, template inheritance, pragmas or swift-mustache's
/// transforms; those are compile errors. How JSON values print (numbers, null, arrays,
/// objects) and which are falsey in sections is described in `TemplateData`.
///
/// ```swift
/// let template = try PlanTemplate("Outline a report on {{inputs.task}}.")
/// template.references.map(\.path)          // [["inputs", "task"]]
/// template.render(["inputs": ["task": "AI & chips"]])
/// // "Outline a report on AI & chips."
/// ```
public struct PlanTemplate: Sendable {
    /// The template text as the plan wrote it.
    public let source: String
    /// Every name the template looks up, in source order, for the plan validator.
    public let references: [TemplateReference]
    /// How deeply sections may nest. swift-mustache compiles and renders sections recursively,
    /// so a deep enough template would exhaust a thread's stack (about 1,000 levels in a debug
    /// build); real templates nest a handful of levels.
    public static let maxSectionDepth = 50

    /// The template compiled in pieces (see `TemplateScanner.Chunk`), each with whether it has
    /// a line break after the plan's text that `render` must take off.
    private let pieces: [(template: MustacheTemplate, hasGuardLineBreak: Bool)]
    /// Whether the whole template, compiled as one, would need the guard line break.
    let hasGuardLineBreak: Bool
    /// How many pieces it was compiled in.
    var pieceCount: Int { pieces.count }

    /// The pragma that switches swift-mustache from HTML escaping to plain text.
    ///
    /// swift-mustache escapes for HTML unless the template itself says otherwise; this is its
    /// documented switch. The newline after it makes the pragma a standalone line, which the
    /// library removes together with the newline, and leaves the parser at the start of a
    /// line, so the plan's text renders exactly as if it stood alone.
    private static let plainTextPrologue = "{{%CONTENT_TYPE: TEXT}}\n"

    /// Compiles a template.
    /// - Parameter source: the template text.
    /// - Throws: `TemplateError` with the offset, line and column of the first problem.
    ///
    /// #### Errors
    /// - a tag that is never closed, or a name with characters other than `A–Z a–z 0–9 . - _ ? *`
    /// - a section that is never closed, or a closing tag that does not match its section
    /// - sections nested deeper than ``maxSectionDepth``
    /// - a delimiter change inside a section, or an empty section under one-character delimiters
    /// - a malformed set-delimiter tag
    /// - a partial (`{{> name}}`), inheritance (`{{< name}}`, `{{$ name}}`), a pragma
    ///   (`{{% … }}`) or a transform (`{{count(list)}}`), which plans do not support
    public init(_ source: String) throws(TemplateError) {
        try self.init(source, chunkLength: 512)
    }

    /// - Parameter chunkLength: the least length of the pieces compiled apart (tests vary it).
    init(_ source: String, chunkLength: Int) throws(TemplateError) {
        let characters = Array(source)
        var scanner = TemplateScanner(characters, chunkLength: chunkLength)
        let scan = try scanner.scan()
        self.references = scan.references
        self.source = source
        // swift-mustache 2.1.1 mishandles two endings: text ending with the first character of
        // the opening delimiter fails with "overflow" (`"Answer in JSON like {"`; it reads a
        // whole delimiter's length ahead), and a last line of only spaces or tabs is dropped.
        // A line break after a last line that holds no tag, or after text that follows the
        // last tag, cannot change how the rest renders: no tag on that line can be standalone,
        // and the text there is outside every section, rendered once, verbatim. So we add one
        // and take it off the output.
        self.hasGuardLineBreak = scan.needsGuardLineBreak
        var pieces: [(template: MustacheTemplate, hasGuardLineBreak: Bool)] = []
        for chunk in scan.chunks {
            let text = String(characters[chunk.range])
            let guardLineBreak = chunk.needsGuardLineBreak ? "\n" : ""
            do {
                pieces.append((try MustacheTemplate(string: Self.plainTextPrologue + text + guardLineBreak), chunk.needsGuardLineBreak))
            } catch let error as MustacheTemplate.ParserError {
                // The scanner accepts only what the library compiles; this keeps any disagreement
                // visible with a position instead of trapping.
                let inPiece = TemplateError(
                    "template does not compile: \(error.error)",
                    line: error.context.lineNumber - 1, column: error.context.columnNumber, in: Array(text))
                throw TemplateError("template does not compile: \(error.error)", at: chunk.range.lowerBound + inPiece.offset, in: characters)
            } catch {
                throw TemplateError("template does not compile: \(error)", at: chunk.range.lowerBound, in: characters)
            }
        }
        self.pieces = pieces
    }

    /// Renders the template as plain text.
    /// - Parameter context: the values names resolve against, usually an object such as
    ///   `{"inputs": …, "steps": {"outline": {"output": …}}, "item": …}`.
    /// - Returns: the text; a name that does not resolve renders as nothing.
    public func render(_ context: JSONValue) -> String {
        let data = TemplateData.wrap(context)
        var text = ""
        for piece in pieces {
            var rendered = piece.template.render(data)
            // By scalar, not Character: a template ending in "\r" renders "\r\n", one Character.
            if piece.hasGuardLineBreak, rendered.unicodeScalars.last == "\n" {
                rendered.unicodeScalars.removeLast()
            }
            text += rendered
        }
        return Self.compacted(text)
    }

    /// `text` in storage of its own size. Rendering appends piece by piece, so the string may
    /// have grown to nearly twice its length; a rendered prompt stays in memory for the whole
    /// model call, in every run waiting on one.
    static func compacted(_ text: String) -> String {
        let utf8 = text.utf8
        let count = utf8.count
        // Up to 15 bytes live inside the String itself.
        guard count > 15 else { return text }
        return String(unsafeUninitializedCapacity: count) { buffer in
            buffer.initialize(fromContentsOf: utf8)
        }
    }
}

extension TemplateError {
    /// An error at a line and column (from 1) of `characters`, with its offset worked out.
    init(_ message: String, line: Int, column: Int, in characters: [Character]) {
        var offset = 0
        var currentLine = 1
        while currentLine < line, offset < characters.count {
            if Self.isLineBreak(characters[offset]) { currentLine += 1 }
            offset += 1
        }
        self.init(message, at: offset + max(column - 1, 0), in: characters)
    }
}
