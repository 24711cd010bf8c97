import SluiceJSON
@testable import SluiceStore
import Testing

/// The ledger's bookkeeping of identical requests: the n-th identical request is answered with
/// the n-th saved response, whatever characters the prompt holds; kinds and requests never mix.
@Suite struct RunCallLedgerTests {
    @Test func theNthIdenticalRequestGetsTheNthSavedResponse() async throws {
        let temporary = try await TemporaryStore()
        defer { temporary.remove() }
        let prompt = "Summarise — “Résumé” ☕ 英伟达 [1]…"
        let ledger = RunCallLedger(store: temporary.store, runID: "r1", prior: [
            ProviderCall(runID: "r1", kind: .model, request: prompt, occurrence: 1, response: "first"),
            ProviderCall(runID: "r1", kind: .model, request: prompt, occurrence: 2, response: "second"),
            ProviderCall(runID: "r1", kind: .search, request: "query", occurrence: 1, response: "hits"),
        ])
        func next(_ kind: ProviderCall.Kind, _ request: String) -> String {
            let (occurrence, saved) = ledger.next(kind, request)
            return "\(occurrence) \(saved?.stringValue ?? "-")"
        }
        #expect(next(.model, prompt) == "1 first")
        #expect(next(.search, prompt) == "1 -", "a search is not a model call with the same text")
        #expect(next(.model, prompt + " ") == "1 -", "another request counts on its own")
        #expect(next(.model, prompt) == "2 second")
        #expect(next(.model, prompt) == "3 -", "past the saved calls, nothing is answered")
        #expect(next(.search, "query") == "1 hits")
    }
}
