import SluiceTesting
import SluiceJSON
import Testing

@testable import SluicePlan

/// Random templates over Mustache's syntax characters: our scanner must never accept what
/// swift-mustache then refuses (that would surface as "template does not compile"), nothing
/// may crash, and PlanTemplate must render what the library renders in plain-text mode.
@Suite struct TemplateFuzzTests {

    static let alphabet: [String] = [
        "{{", "}}", "{", "}", "#", "^", "/", "=", "!", "&", ">", "<", "$", "%", "a", "b", ".", "a.b", "|", "(", ")",
        " ", "\t", "\n", "\r\n", "\r", "\u{2028}", "\u{0B}", "é", "\u{301}",
        "{{#a}}", "{{/a}}", "{{^b}}", "{{/b}}", "{{{", "}}}", "{{&", "{{!", "{{.}}",
        "{{=| |=}}", "|#a|", "|/a|", "{{=<% %>=}}", "<%", "%>", "<%#a%>", "<%/a%>",
    ]

    @Test(arguments: [1, 2, 3, 4])
    func scannerNeverAcceptsWhatTheLibraryRefuses(seed: UInt64) throws {
        var generator = SeededRandom(seed: seed)
        let context: JSONValue = ["a": [["b": 1], ["b": "x"]], "b": true]
        for _ in 0..<5_000 {
            let length = Int.random(in: 0...10, using: &generator)
            let source = (0..<length).map { _ in Self.alphabet.randomElement(using: &generator) ?? "" }.joined()
            let template: PlanTemplate
            do {
                template = try PlanTemplate(source)
            } catch {
                #expect(!error.message.hasPrefix("template does not compile"), "\(source.debugDescription): \(error)")
                #expect(error.offset >= 0 && error.offset <= source.count, "\(source.debugDescription)")
                continue
            }
            let rendered = template.render(context)
            // Against the library alone. Where PlanTemplate adds its guard line break, the
            // library gets a trailing "x" instead (which it handles), taken off afterwards.
            let suffix = template.hasGuardLineBreak ? "x" : ""
            let direct = try MustacheLibraryCheck.render(
                "{{%CONTENT_TYPE: TEXT}}\n" + source + suffix, data: context, partials: [:])
            #expect(rendered + suffix == direct, "\(source.debugDescription)")
        }
    }

    /// Compiling a template in pieces (how PlanTemplate keeps long templates linear) must
    /// render exactly what compiling it whole renders: cut as often as allowed, here.
    @Test(arguments: [5, 6, 7, 8])
    func piecesRenderLikeTheWholeTemplate(seed: UInt64) throws {
        var generator = SeededRandom(seed: seed)
        let context: JSONValue = ["a": [["b": 1], ["b": "x"]], "b": true, "c": "{{c}}"]
        let alphabet = Self.alphabet + ["x", "y z", "{{a.b}}", "{{c}}", "{{{c}}}", "{{& b}}", " ", "\n", "{{! c }}"]
        var cut = 0
        for _ in 0..<3_000 {
            let length = Int.random(in: 0...24, using: &generator)
            let source = (0..<length).map { _ in alphabet.randomElement(using: &generator) ?? "" }.joined()
            guard let whole = try? PlanTemplate(source, chunkLength: .max) else { continue }
            let pieces = try PlanTemplate(source, chunkLength: 1)
            if pieces.pieceCount > 1 { cut += 1 }
            #expect(pieces.render(context) == whole.render(context), "\(source.debugDescription)")
        }
        #expect(cut > 500)
    }

    @Test func aLongTemplateIsCompiledInPieces() throws {
        let template = try PlanTemplate(String(repeating: "{{a.b}}, ", count: 2_000))
        #expect(template.pieceCount > 10)
        #expect(template.references.count == 2_000)
        #expect(template.render(["a": ["b": 1]]) == String(repeating: "1, ", count: 2_000))
    }
}
