import HTTPTypes
public import Hummingbird

/// The request context of Sluice's routes: Hummingbird's core storage plus the caller.
public struct SluiceRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The authenticated user (`anonymous` when the server has no API keys).
    public var user: String = "anonymous"

    public init(source: Source) {
        self.coreContext = .init(source: source)
    }

    /// Bodies are read with the server's own limit (``SluiceHTTPServer/Configuration/maxBodyBytes``).
    public var maxUploadSize: Int { 16 << 20 }
}

/// Authenticates every route but `/healthz` when API keys are configured, and counts requests.
struct AuthAndMetricsMiddleware: RouterMiddleware {
    typealias Context = SluiceRequestContext
    let keys: APIKeys
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let response: Response
        if request.uri.path == "/healthz" || keys.isEmpty {
            response = try await respond(request, context, next)
        } else if let user = presentedKey(request).flatMap(keys.user(for:)) {
            context.user = user
            response = try await respond(request, context, next)
        } else {
            response = HTTPResponses.error(.unauthorized, "missing or unknown API key: send Authorization: Bearer KEY or X-API-Key: KEY")
        }
        metrics.recordRequest(method: request.method.rawValue, route: context.endpointPath ?? "unmatched", status: response.status.code)
        return response
    }

    private func respond(_ request: Request, _ context: Context, _ next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            return HTTPResponses.error(error.status, error.body ?? error.status.reasonPhrase)
        }
    }

    private func presentedKey(_ request: Request) -> String? {
        if let authorization = request.headers[.authorization] {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" { return String(parts[1]) }
        }
        if let name = HTTPField.Name("X-API-Key"), let key = request.headers[name] { return key }
        return nil
    }
}
