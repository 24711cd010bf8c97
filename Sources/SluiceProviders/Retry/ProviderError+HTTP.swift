import Foundation
import SluiceJSON

extension ProviderError {
    /// The error for a response with a failing status, with the service's own message.
    ///
    /// 408 → timeout, 409/5xx → transient, 429 → rate limited (all retried); 401/403 →
    /// unauthorized, 404 → not found, other 4xx → invalid request (never retried).
    static func from(status: Int, head: HTTPResponseHead, body: [UInt8], provider: String, redactor: SecretRedactor) -> ProviderError {
        let code: Code =
            switch status {
            case 408: .timeout
            case 429: .rateLimited
            case 401, 403: .unauthorized
            case 404: .notFound
            case 409, 500...: .transient
            default: .invalidRequest
            }
        let detail = serviceMessage(in: body)
        var message = "the service answered HTTP \(status)"
        if !detail.isEmpty { message += ": " + detail }
        return ProviderError(code, redactor.redact(message), provider: provider, retryAfter: retryAfter(head.value(for: "retry-after")))
    }

    /// The error of a transfer that did not complete.
    static func from(_ error: HTTPClientError, provider: String, redactor: SecretRedactor) -> ProviderError {
        let code: Code =
            switch error.kind {
            case .connectTimeout, .firstByteTimeout, .idleTimeout, .totalTimeout: .timeout
            case .network: .transient
            case .addressRefused: .refused
            case .responseTooLarge: .invalidResponse
            case .invalidRequest: .invalidRequest
            }
        return ProviderError(code, redactor.redact(error.message), provider: provider)
    }

    /// `error.message` (OpenAI, Anthropic, most others), `message`, or `detail`, else the start of the body.
    static func serviceMessage(in body: [UInt8]) -> String {
        var text: String
        do {
            let json = try JSONParser.parse(body)
            text = json["error"]?["message"]?.stringValue ?? json["error"]?.stringValue ?? json["message"]?.stringValue
                ?? json["detail"]?.stringValue ?? json.serialized()
        } catch {
            // Not JSON (an HTML error page, plain text): show its start as it is.
            text = String(decoding: body.prefix(600), as: UTF8.self)
        }
        let flat = text.replacingOccurrences(of: "\n", with: " ").trimmingCharacters(in: .whitespaces)
        return flat.count > 500 ? String(flat.prefix(500)) + "…" : flat
    }

    /// `Retry-After` as seconds or an HTTP date.
    static func retryAfter(_ value: String?, now: Date = Date()) -> Duration? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Double(value), seconds >= 0 { return .milliseconds(Int(seconds * 1000)) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        return .milliseconds(Int(max(0, date.timeIntervalSince(now)) * 1000))
    }
}
