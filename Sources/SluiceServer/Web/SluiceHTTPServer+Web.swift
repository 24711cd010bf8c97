import HTTPTypes
import Hummingbird
import NIOCore
import SluiceEngine
import SluiceJSON
import SluiceRunLog
import SluiceStore

/// The operator's pages on the API's port: `/` (runs), `/runs/{id}` (one run), `/plans/{name}`
/// (one plan and its form), their assets under `/assets/`, and the two JSON routes the pages
/// need beyond the REST API: `GET /v1/runs` (the caller's runs) and `GET /v1/plans/{name}`.
///
/// The pages are the same static shell for everyone and hold no data: they load it from the
/// API with the key the person typed, so they are served without a key (see
/// ``WebPages/isPage(_:)`` in ``BoundaryMiddleware``); the Host and Origin checks still apply.
extension SluiceHTTPServer {
    func addWebRoutes(to router: Router<SluiceRequestContext>) {
        router.get("/") { _, _ in WebPages.page(.runs) }
        router.get("/runs/:id") { _, _ in WebPages.page(.run) }
        router.get("/plans/:name") { _, _ in WebPages.page(.plan) }
        router.get("/assets/:file") { _, context in
            let file = try context.parameters.require("file")
            guard let asset = WebAssets.files[file] else { throw ServerError(.notFound, "no asset named '\(file)'") }
            return WebPages.asset(asset)
        }
        addAnswerRoute(to: router)
        addResumeRoute(to: router)
        router.get("/v1/runs") { request, context in
            let query = request.uri.queryParameters
            let status = query.get("status").map { String($0) }
            let plan = query.get("plan").map { String($0) }
            var limit = 50
            if let text = query.get("limit") {
                guard let value = Int(text), (1...500).contains(value) else {
                    throw ServerError(.badRequest, "limit must be a whole number from 1 to 500 (got '\(text)')")
                }
                limit = value
            }
            if let status, StoredRunStatus(rawValue: status) == nil {
                let known = StoredRunStatus.allCases.map(\.rawValue).joined(separator: ", ")
                throw ServerError(.badRequest, "unknown status '\(status)': one of \(known)")
            }
            let runs = try await self.listRuns(user: context.user, status: status, plan: plan, limit: limit)
            return HTTPResponses.json(["runs": .array(runs)])
        }
        router.get("/v1/plans/:name") { _, context in
            let name = try context.parameters.require("name")
            guard let served = self.mcp.library.plan(named: name) else {
                throw ServerError(.notFound, "no plan named '\(name)'")
            }
            guard case .object(var object) = Self.describe(served) else { return HTTPResponses.json(Self.describe(served)) }
            if let plan = served.plan { object["graph"] = PlanGraphLayout(plan: plan).json }
            return HTTPResponses.json(.object(object))
        }
    }

    /// The user's runs, newest first: those this process holds, then the stored ones it does
    /// not (finished earlier, before a restart, or by another process sharing the store).
    func listRuns(user: String, status: String?, plan: String?, limit: Int) async throws -> [JSONValue] {
        var seen = Set<String>()
        var rows: [(created: String, row: JSONValue)] = []
        func add(_ summary: JSONValue, id: String) {
            guard seen.insert(id).inserted, case .object(var object) = summary else { return }
            if let status, object["status"]?.stringValue != status { return }
            if let plan, object["plan"]?.stringValue != plan { return }
            object["user"] = .string(user)
            // The list needs no inputs' or results' bodies; the run's own route has them.
            object["result"] = nil
            object["inputs"] = nil
            rows.append((object["created_at"]?.stringValue ?? "", .object(object)))
        }
        for record in runs.registry.runs(user: user) {
            var summary = record.summary
            // Running, the summary has no usage yet: what its model calls have spent so far.
            if case .object(var object) = summary, object["usage"] == nil {
                object["usage"] = Self.usageSoFar(record.recordedEvents)
                summary = .object(object)
            }
            add(summary, id: record.id)
        }
        if let store = durableStore {
            let filter = RunFilter(user: user, status: status.flatMap(StoredRunStatus.init(rawValue:)), plan: plan, limit: limit)
            let stored: [StoredRun]
            do {
                stored = try await store.runs(filter)
            } catch {
                throw ServerError(.internalServerError, "the run store could not be read: \(error.message)")
            }
            for run in stored { add(Self.summary(of: run), id: run.id) }
        }
        // ISO 8601 in UTC with milliseconds: the text order is the time order.
        return rows.sorted { $0.created > $1.created }.prefix(limit).map(\.row)
    }
}

extension SluiceHTTPServer {
    /// The totals of a run's `model.usage` events, in the shape of the end event's `usage`
    /// (`cost_usd` null when a call had no price).
    static func usageSoFar(_ events: [RunEvent]) -> JSONValue {
        var input: Int64 = 0, output: Int64 = 0, calls: Int64 = 0
        var cost: Double? = 0
        for event in events where event.type == .modelUsage {
            input += event.data["input_tokens"]?.integerValue ?? 0
            output += event.data["output_tokens"]?.integerValue ?? 0
            calls += 1
            if let spent = event.data["cost_usd"]?.doubleValue { cost = cost.map { $0 + spent } } else { cost = nil }
        }
        return [
            "input_tokens": .integer(input), "output_tokens": .integer(output), "total_tokens": .integer(input + output),
            "cost_usd": cost.map(JSONValue.double) ?? .null, "model_calls": .integer(calls),
        ]
    }
}

/// The three pages: one shell each, whose scripts fetch everything they show.
enum WebPages {
    enum Page: String {
        case runs, run, plan
    }

    /// Whether `path` is a page or an asset: served without an API key (they hold no data).
    static func isPage(_ path: String) -> Bool {
        path == "/" || path.hasPrefix("/assets/") || isUnder("/runs/", path) || isUnder("/plans/", path)
    }

    private static func isUnder(_ prefix: String, _ path: String) -> Bool {
        path.hasPrefix(prefix) && path.count > prefix.count && !path.dropFirst(prefix.count).contains("/")
    }

    /// No inline script or style anywhere: a report's text that became markup still could not run.
    static let contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    static var securityHeaders: HTTPFields {
        var fields: HTTPFields = [:]
        fields[HTTPField.Name("Content-Security-Policy")!] = contentSecurityPolicy
        fields[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        fields[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        fields[HTTPField.Name("X-Frame-Options")!] = "DENY"
        return fields
    }

    static func page(_ page: Page) -> Response {
        let scripts: [String] = switch page {
        case .runs: ["app.js", "runs.js"]
        case .run: ["app.js", "markdown.js", "charts.js", "run.js"]
        case .plan: ["app.js", "charts.js", "plan.js"]
        }
        let html = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Sluice</title>
        <link rel="stylesheet" href="/assets/app.css">
        \(scripts.map { "<script src=\"/assets/\($0)\" defer></script>" }.joined(separator: "\n"))
        </head><body data-page="\(page.rawValue)">
        <header><a href="/" class="brand">Sluice</a><nav id="nav"></nav><form id="keyform" hidden>
        <label>API key <input id="key" type="password" autocomplete="off" required></label> <button>Use key</button></form></header>
        <main id="main"><p class="muted">Loading…</p></main>
        </body></html>
        """
        var headers = securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    static func asset(_ asset: WebAssets.Asset) -> Response {
        var headers = securityHeaders
        headers[.contentType] = asset.contentType
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: asset.text)))
    }
}
