import Foundation
import HTTPTypes
public import Hummingbird
import Logging

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

/// The one door every request goes through, in this order:
/// 1. `Host` must name this server (DNS rebinding gets 403), except on `/healthz`;
/// 2. a browser's `Origin` must be loopback or allowed (403);
/// 3. a request with a body must say `Content-Type: application/json` (415), which ends the
///    browser "simple requests" a web page can send without a CORS preflight;
/// 4. the API key, when keys are configured (401), except on `/healthz` and the web pages and
///    their assets (``WebPages/isPage(_:)``): those are the same static shell for everyone and
///    hold no data; their scripts read everything from the API, sending the key.
/// Whatever a route throws is rendered here (``ServerError``), and every answer is counted.
struct BoundaryMiddleware: RouterMiddleware {
    typealias Context = SluiceRequestContext
    let keys: APIKeys
    let hosts: HostPolicy
    let origins: OriginPolicy
    let metrics: ServerMetrics
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let response: Response
        do {
            try admit(request, context: &context)
            response = try await next(request, context)
        } catch {
            let failure = ServerError.from(error)
            if failure.status == .internalServerError, !(error is ServerError) {
                // The client hears only "internal error"; the operator gets the type, not the text
                // (which may quote what a client or a model sent).
                logger.error("internal error on \(request.method.rawValue) \(request.uri.path): \(type(of: error))")
            }
            response = failure.response(jsonRPC: request.uri.path == "/mcp")
        }
        metrics.recordRequest(method: request.method.rawValue, route: context.endpointPath ?? "unmatched", status: response.status.code)
        return response
    }

    private func admit(_ request: Request, context: inout Context) throws(ServerError) {
        let path = request.uri.path
        let health = path == "/healthz"
        if !health {
            guard let authority = request.head.authority else {
                throw ServerError(.badRequest, "Bad Request: a Host header is required")
            }
            guard hosts.allows(authority: authority) else {
                throw ServerError(.forbidden, "Forbidden: host not allowed (start the server with --allow-host NAME to serve it under that name)")
            }
        }
        guard origins.allows(request.headers[.origin]) else {
            throw ServerError(.forbidden, "Forbidden: origin not allowed")
        }
        if Self.hasBody(request), !Self.isJSON(request.headers[.contentType]) {
            throw ServerError(.unsupportedMediaType, "Unsupported Media Type: send the body as Content-Type: application/json")
        }
        guard !health, !keys.isEmpty, !(request.method == .get && WebPages.isPage(path)) else { return }
        guard let user = Self.presentedKey(request).flatMap(keys.user(for:)) else {
            throw ServerError(.unauthorized, "missing or unknown API key: send Authorization: Bearer KEY or X-API-Key: KEY")
        }
        context.user = user
    }

    /// POST, PUT and PATCH carry bodies here (every JSON route is a POST).
    static func hasBody(_ request: Request) -> Bool {
        request.method == .post || request.method == .put || request.method == .patch
    }

    /// `application/json`, with or without parameters such as `charset`.
    static func isJSON(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first ?? ""
        return mediaType.trimmingCharacters(in: .whitespaces).lowercased() == "application/json"
    }

    private static func presentedKey(_ request: Request) -> String? {
        if let authorization = request.headers[.authorization] {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" { return String(parts[1]) }
        }
        if let name = HTTPField.Name("X-API-Key"), let key = request.headers[name] { return key }
        return nil
    }
}
