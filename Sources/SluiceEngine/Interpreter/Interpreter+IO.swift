import SluiceJSON
import SluicePlan
import SluiceProviders

/// `search`, `fetch` and `load`: the providers that bring text into a run.
extension Interpreter {
    /// Runs every query (concurrently), keeping the first result for each url; `cache` is
    /// `{hits, misses}` when a response cache answered or saw any query. The search provider's
    /// own retries are reported as `step.retrying`, as a model's are.
    func runSearch(_ search: SearchStep, step: Step, scope: Scope) async throws -> (output: JSONValue, cache: JSONValue?) {
        let tally = SearchCacheTally()
        let queries = try searchQueries(search, step: step, scope: scope, tally: tally)
        let provider = engine.providers.search
        let perQuery = try await concurrently(queries, limit: 4) { query in try await provider.search(query) }
        return Self.searchOutput(perQuery, tally: tally)
    }

    /// The step's queries with their settings. Not inlined, like the other synchronous parts
    /// of `runSearch`: its frame waits on the searches (see "Keeping runs small").
    @inline(never)
    private func searchQueries(_ search: SearchStep, step: Step, scope: Scope, tally: SearchCacheTally) throws(RunFailure) -> [SearchQuery] {
        let texts = try strings(search.queries, isList: search.isList, field: search.isList ? "queries" : "query", step: step, scope: scope)
        let maxResults = try search.maxResults.map { setting throws(RunFailure) in
            try scope.count(setting, field: "max_results", minimum: 1, step: step.id)
        } ?? 5
        let days = try search.days.map { setting throws(RunFailure) in
            try scope.count(setting, field: "days", minimum: 1, step: step.id)
        }
        let retries = providerRetryReporter(step: step.id, scope: scope)
        return texts.map { SearchQuery(text: $0, maxResults: maxResults, days: days, onRetry: retries, cacheTally: tally) }
    }

    /// Every query's results, keeping the first for each url, and the cache's `{hits, misses}`
    /// when a response cache answered or saw any query.
    @inline(never)
    private static func searchOutput(_ perQuery: [[SearchResult]], tally: SearchCacheTally) -> (output: JSONValue, cache: JSONValue?) {
        var seen = Set<String>()
        var results: [JSONValue] = []
        for result in perQuery.joined() where seen.insert(result.url).inserted {
            results.append([
                "title": .string(result.title), "url": .string(result.url), "snippet": .string(result.snippet),
                "published": result.published.map(JSONValue.string) ?? .null, "provider": .string(result.provider),
            ])
        }
        let cache: JSONValue? =
            tally.hits + tally.misses == 0 ? nil : ["hits": .integer(Int64(tally.hits)), "misses": .integer(Int64(tally.misses))]
        return (["results": .array(results)], cache)
    }

    /// Fetches every url (concurrently); pages that fail are listed under `failed` with why.
    /// The fetch provider's own retries are reported as `step.retrying`.
    func runFetch(_ fetch: FetchStep, step: Step, scope: Scope) async throws -> JSONValue {
        let urls = try strings(fetch.urls, isList: fetch.isList, field: fetch.isList ? "urls" : "url", step: step, scope: scope)
        let provider = engine.providers.fetch
        let maxBytes = fetch.maxBytes
        let retries = providerRetryReporter(step: step.id, scope: scope)
        let outcomes = try await concurrently(urls, limit: 4) { url -> Result<FetchedPage, ProviderError> in
            do {
                return .success(try await provider.fetch(url: url, maxBytes: maxBytes, onRetry: retries))
            } catch let error as ProviderError {
                return .failure(error)
            }
        }
        var pages: [JSONValue] = []
        var failed: [JSONValue] = []
        for (url, outcome) in zip(urls, outcomes) {
            switch outcome {
            case .success(let page):
                pages.append(["url": .string(page.url), "title": .string(page.title), "text": .string(page.text)])
            case .failure(let error):
                failed.append(["url": .string(url), "error": .string(error.message)])
            }
        }
        return ["pages": .array(pages), "failed": .array(failed)]
    }

    /// Loads one document and cuts it into overlapping chunks.
    func runLoad(_ load: LoadStep, step: Step, scope: Scope) async throws -> JSONValue {
        let value = try scope.evaluate(load.path, step: step.id)
        guard let path = value.stringValue, !path.isEmpty else {
            throw RunFailure(.expressionError, "path gave \(value.typeName), expected a file path or URL", step: step.id)
        }
        let document = try await engine.providers.documents.load(path: path)
        let chunks = Self.chunks(of: document.text, size: load.chunkSize, overlap: load.chunkOverlap)
        return ["path": .string(path), "text": .string(document.text), "chunks": .array(chunks)]
    }

    /// `[{index, offset, text}]`: pieces of `size` characters, each starting `size - overlap` after the last.
    static func chunks(of text: String, size: Int, overlap: Int) -> [JSONValue] {
        let characters = Array(text)
        let size = max(1, size)
        let stride = max(1, size - max(0, min(overlap, size - 1)))
        var chunks: [JSONValue] = []
        var offset = 0
        while offset < characters.count {
            let end = min(characters.count, offset + size)
            chunks.append(["index": .integer(Int64(chunks.count)), "offset": .integer(Int64(offset)), "text": .string(String(characters[offset..<end]))])
            if end == characters.count { break }
            offset += stride
        }
        return chunks
    }

    /// A value that must be one string (`query`, `url`) or a list of strings (`queries`, `urls`).
    private func strings(_ value: PlanValue, isList: Bool, field: String, step: Step, scope: Scope) throws(RunFailure) -> [String] {
        let evaluated = try scope.evaluate(value, step: step.id)
        let list = isList ? evaluated.arrayValue : [evaluated]
        guard let list, let strings = Optional(list.compactMap(\.stringValue)), strings.count == list.count else {
            throw RunFailure(.expressionError, "\(field) gave \(evaluated.typeName), expected \(isList ? "a list of strings" : "a string")", step: step.id)
        }
        return strings
    }

    /// `work` over every element, at most `limit` at once, results in input order.
    func concurrently<Element: Sendable, Output: Sendable>(
        _ elements: [Element], limit: Int, _ work: @escaping @Sendable (Element) async throws -> Output
    ) async throws -> [Output] {
        var results = [Output?](repeating: nil, count: elements.count)
        try await withThrowingTaskGroup(of: (Int, Output).self) { group in
            var next = 0
            while next < min(limit, elements.count) {
                let index = next
                group.addTask { (index, try await work(elements[index])) }
                next += 1
            }
            while let (index, output) = try await group.next() {
                results[index] = output
                if next < elements.count {
                    let index = next
                    group.addTask { (index, try await work(elements[index])) }
                    next += 1
                }
            }
        }
        return results.compactMap { $0 }
    }
}
