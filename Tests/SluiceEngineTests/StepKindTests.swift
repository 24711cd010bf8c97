import Foundation
@testable import SluiceEngine
import SluiceJSON
import SluicePlan
import SluiceProviders
import SluiceRunLog
import SluiceTesting
import Testing

/// Each step kind on its own, with in-process fakes.
@Suite struct StepKindTests {
    @Test func llmStreamsTextReportsUsageAndCost() async throws {
        let plan = try Harness.plan(#"""
        {"name": "p", "models": {"default": "openai:gpt-4o-mini"},
         "steps": [{"id": "write", "kind": "llm", "prompt": "Write about {{inputs.topic}}."}],
         "output": {"value": {"text": "${steps.write.output}"}}}
        """#)
        let model = ScriptedModel(chunkSize: 4) { request, _ in "Answer to: \(request.prompt)" }
        let (outcome, events) = await Harness.run(plan, inputs: ["topic": "agents"], providers: Harness.providers(model: model))
        #expect(outcome.status == .completed)
        #expect(outcome.result == ["text": "Answer to: Write about agents."])
        let deltas = events.of(.stepDelta, step: "write")
        #expect(!deltas.isEmpty, "adjacent deltas may merge while the sink catches up, but text is never lost")
        #expect(deltas.map(\.deltaText).joined() == "Answer to: Write about agents.")
        let usage = try #require(events.of(.modelUsage).first)
        #expect(usage.data["provider"] == "openai")
        #expect(usage.data["model"] == "gpt-4o-mini")
        #expect(usage.data["cost_usd"]?.doubleValue != nil)
        #expect(outcome.usage.modelCalls == 1)
        #expect(model.requests.first?.model == ModelID(provider: "openai", name: "gpt-4o-mini"))
        #expect(EventInvariants.violations(events) == [])
    }

    @Test func structuredOutputIsParsedAndValidatedWithRetries() async throws {
        let plan = try Harness.plan(#"""
        {"name": "p", "models": {"default": "x:m"},
         "steps": [{"id": "facts", "kind": "llm", "prompt": "Facts.", "stream": false,
                    "retry": {"max_attempts": 3, "initial_delay_ms": 1, "max_delay_ms": 2},
                    "schema": {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}}]}
        """#)
        let model = ScriptedModel { _, call in
            switch call {
            case 1: "not json"
            case 2: #"{"m": 1}"#
            default: "```json\n{\"n\": 3}\n```"
            }
        }
        let (outcome, events) = await Harness.run(plan, providers: Harness.providers(model: model))
        #expect(outcome.status == .completed)
        #expect(outcome.result?["facts"] == ["n": 3])
        let retries = events.of(.stepRetrying)
        #expect(retries.count == 2)
        #expect(retries[0].data["reason"]?.stringValue?.contains("not JSON") == true)
        #expect(retries[1].data["reason"]?.stringValue?.contains("'n'") == true)
        #expect(events.of(.stepDelta).isEmpty, "stream: false sends no deltas")
    }

    @Test func whenFalseSkipsAndSetAndTemplateCompute() async throws {
        let plan = try Harness.plan(#"""
        {"name": "p",
         "steps": [
           {"id": "numbers", "kind": "set", "value": {"list": [1, 2, 3], "total": "${1 + 2 + 3}", "label": "n={{inputs.n}}"}},
           {"id": "never", "kind": "set", "when": "inputs.n > 100", "value": "x"},
           {"id": "text", "kind": "template", "template": "{{#steps.numbers.output.list}}<{{.}}>{{/steps.numbers.output.list}} total {{steps.numbers.output.total}}"}
         ],
         "output": {"value": {"numbers": "${steps.numbers.output}", "text": "${steps.text.output}", "never": "${steps.never.output}"}}}
        """#)
        let (outcome, events) = await Harness.run(plan, inputs: ["n": 5])
        #expect(outcome.status == .completed)
        #expect(outcome.result?["numbers"] == ["list": [1, 2, 3], "total": 6, "label": "n=5"])
        #expect(outcome.result?["text"] == "<1><2><3> total 6")
        #expect(outcome.result?["never"] == .null)
        #expect(events.of(.stepSkipped, step: "never").count == 1)
        #expect(events.of(.stepStarted, step: "never").isEmpty)
        #expect(EventInvariants.violations(events) == [])
    }

    @Test func searchDeduplicatesByURLAndFetchRecordsFailures() async throws {
        let plan = try Harness.plan(#"""
        {"name": "p",
         "steps": [
           {"id": "found", "kind": "search", "queries": ["a", "b"], "max_results": 2, "days": 3},
           {"id": "pages", "kind": "fetch", "urls": "${steps.found.output.results.map(r, r.url)}"}
         ]}
        """#)
        let search = FakeSearchProvider { query in
            [SearchResult(title: query.text, url: "https://x/shared", snippet: "", published: nil, provider: "fake"),
             SearchResult(title: query.text, url: "https://x/\(query.text)", snippet: "", published: nil, provider: "fake")]
        }
        let fetch = FakeFetchProvider(pages: ["https://x/shared": "shared text", "https://x/a": "a text"])
        let (outcome, _) = await Harness.run(plan, providers: Harness.providers(search: search, fetch: fetch))
        #expect(outcome.status == .completed)
        let urls = outcome.result?["found"]?["results"]?.arrayValue?.compactMap { $0["url"]?.stringValue }
        #expect(urls == ["https://x/shared", "https://x/a", "https://x/b"])
        #expect(search.queries.map(\.days) == [3, 3])
        #expect(search.queries.map(\.maxResults) == [2, 2])
        #expect(outcome.result?["pages"]?["pages"]?.arrayValue?.count == 2)
        #expect(outcome.result?["pages"]?["failed"]?[0]?["url"] == "https://x/b")
    }

    @Test func loadChunksTheDocument() async throws {
        let plan = try Harness.plan(#"""
        {"name": "p", "steps": [{"id": "doc", "kind": "load", "path": "${inputs.path}", "chunk_size": 4, "chunk_overlap": 1}]}
        """#)
        let documents = FakeDocumentLoader(documents: ["d.txt": "abcdefghij"])
        let (outcome, _) = await Harness.run(plan, inputs: ["path": "d.txt"], providers: Harness.providers(documents: documents))
        let chunks = outcome.result?["doc"]?["chunks"]?.arrayValue?.compactMap { $0["text"]?.stringValue }
        #expect(chunks == ["abcd", "defg", "ghij"])
        #expect(outcome.result?["doc"]?["chunks"]?[1]?["offset"] == 3)
        #expect(outcome.result?["doc"]?["text"] == "abcdefghij")
    }

    @Test func chunkingCoversTheWholeText() {
        let text = String(repeating: "0123456789", count: 25)
        let chunks = Interpreter.chunks(of: text, size: 30, overlap: 7).compactMap { $0["text"]?.stringValue }
        #expect(chunks.first?.count == 30)
        var rebuilt = chunks[0]
        for chunk in chunks.dropFirst() { rebuilt += chunk.dropFirst(7) }
        #expect(rebuilt == text)
    }
}
