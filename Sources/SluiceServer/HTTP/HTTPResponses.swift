import Foundation
import Hummingbird
import NIOCore
import SluiceJSON

/// Small builders for the JSON answers of every route.
enum HTTPResponses {
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: value.jsonBytes)))
    }

    static func text(_ text: String, contentType: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: contentType], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// The request body as JSON, within `limit` bytes.
    ///
    /// - Throws: ``ServerError`` 413 over the limit, 400 for malformed JSON (saying where).
    static func readJSON(_ request: Request, limit: Int) async throws -> JSONValue {
        let bytes = try await readBytes(request, limit: limit)
        do {
            return try JSONParser.parse(bytes)
        } catch {
            throw ServerError(.badRequest, "the body is not valid JSON: \(error)")
        }
    }

    /// - Throws: ``ServerError`` 413 over the limit; the connection's own errors as they are.
    static func readBytes(_ request: Request, limit: Int) async throws -> [UInt8] {
        do {
            var buffer = try await request.body.collect(upTo: limit)
            return buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch is NIOTooManyBytesError {
            throw ServerError(.contentTooLarge, "the body is larger than \(limit) bytes")
        }
    }

    static func accepts(_ request: Request, _ mediaType: String) -> Bool {
        guard let accept = request.headers[.accept] else { return false }
        return accept.split(separator: ",").contains { part in
            part.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() == mediaType
        }
    }
}
