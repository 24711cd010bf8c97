import Foundation
import SluiceJSON

/// Calls a JSON API over ``HTTPClient`` with retries and error mapping (search services).
struct JSONServiceCaller: Sendable {
    let provider: String
    let http: HTTPClient
    let retry: ProviderRetryPolicy
    let redactor: SecretRedactor
    /// Responses larger than this are refused (a search answer is a few kilobytes).
    var maxResponseBytes = 8 << 20

    /// - Parameters:
    ///   - onRetry: told about each retry (the query's observer).
    ///   - traceparent: sent as the `traceparent` header (the query's span in a traced run).
    func call(_ request: HTTPRequest, onRetry: (@Sendable (ProviderRetryInfo) -> Void)?, traceparent: String? = nil) async throws -> JSONValue {
        var request = request
        request.maxResponseBytes = request.maxResponseBytes ?? maxResponseBytes
        if let traceparent { request.headers.append(HTTPHeader("traceparent", traceparent)) }
        return try await retry.run(provider: provider, observer: onRetry) {
            let response: HTTPResponse
            do {
                response = try await http.send(request)
            } catch let error as HTTPClientError {
                throw ProviderError.from(error, provider: provider, redactor: redactor)
            }
            guard response.head.isSuccess else {
                throw ProviderError.from(status: response.status, head: response.head, body: response.body, provider: provider, redactor: redactor)
            }
            do {
                return try JSONParser.parse(response.body)
            } catch {
                throw ProviderError(.invalidResponse, "the answer is not JSON: \(error)", provider: provider)
            }
        }
    }
}

enum URLText {
    private static let unreserved = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")

    /// Percent-encodes a query parameter value.
    static func encode(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? value
    }

    /// `base` + `path` + `?name=value&…`, values percent-encoded.
    static func url(_ base: String, _ path: String, _ parameters: [(String, String)]) -> String {
        let root = base.hasSuffix("/") ? String(base.dropLast()) : base
        let query = parameters.map { "\(encode($0.0))=\(encode($0.1))" }.joined(separator: "&")
        return root + path + (query.isEmpty ? "" : "?" + query)
    }
}

extension SearchQuery {
    /// `days` as the day/week/month/year ranges several services take (the smallest that covers it).
    var coarseTimeRange: String? {
        guard let days else { return nil }
        switch days {
        case ...1: return "day"
        case ...7: return "week"
        case ...31: return "month"
        default: return "year"
        }
    }
}
