import Foundation
import Testing

@testable import SluiceProviders

@Suite("HTTP failures as provider errors")
struct ProviderErrorMappingTests {
    @Test(arguments: [
        (408, "timeout", true), (409, "transient", true), (429, "rate_limited", true), (500, "transient", true),
        (503, "transient", true), (529, "transient", true), (400, "invalid_request", false), (401, "unauthorized", false),
        (403, "unauthorized", false), (404, "not_found", false), (422, "invalid_request", false),
    ])
    func statusCodes(status: Int, code: String, retryable: Bool) {
        let error = ProviderError.from(status: status, head: HTTPResponseHead(status: status, headers: []), body: [], provider: "p", redactor: .none)
        #expect(error.code.description == code)
        #expect(error.isRetryable == retryable)
    }

    @Test func retryAfterInSecondsOrAsADate() {
        let now = Date(timeIntervalSince1970: 1_763_683_200)  // Fri, 21 Nov 2025 00:00:00 GMT
        #expect(ProviderError.retryAfter("3", now: now) == .seconds(3))
        #expect(ProviderError.retryAfter("1.5", now: now) == .milliseconds(1500))
        #expect(ProviderError.retryAfter("Fri, 21 Nov 2025 00:00:10 GMT", now: now) == .seconds(10))
        #expect(ProviderError.retryAfter("soon", now: now) == nil)
        #expect(ProviderError.retryAfter(nil, now: now) == nil)
    }

    @Test func theServicesOwnMessageIsKept() {
        let body = Array(#"{"error": {"message": "model not found: gpt-9", "type": "invalid_request_error"}}"#.utf8)
        let error = ProviderError.from(status: 404, head: HTTPResponseHead(status: 404, headers: []), body: body, provider: "openai", redactor: .none)
        #expect(error.message == "the service answered HTTP 404: model not found: gpt-9")
    }

    @Test func aRetryAfterLongerThanTheLimitIsNotWaitedFor() {
        let policy = ProviderRetryPolicy(maxRetryAfter: .seconds(60))
        let error = ProviderError(.rateLimited, "slow down", provider: "p", retryAfter: .seconds(3600))
        #expect(policy.delay(after: 1, error: error) == nil)
    }
}
