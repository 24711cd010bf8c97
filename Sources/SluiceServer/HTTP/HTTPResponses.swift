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

    /// `{"error": message}` with the status.
    static func error(_ status: HTTPResponse.Status, _ message: String, details: JSONValue? = nil) -> Response {
        var object: JSONObject = ["error": .string(message)]
        if let details { object["details"] = details }
        return json(.object(object), status: status)
    }

    static func text(_ text: String, contentType: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: contentType], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// The request body as JSON, within `limit` bytes.
    ///
    /// - Throws: `HTTPError` 413 over the limit, 400 for malformed JSON.
    static func readJSON(_ request: Request, limit: Int) async throws -> JSONValue {
        let bytes = try await readBytes(request, limit: limit)
        do {
            return try JSONParser.parse(bytes)
        } catch {
            throw HTTPError(.badRequest, message: "the body is not valid JSON: \(error)")
        }
    }

    static func readBytes(_ request: Request, limit: Int) async throws -> [UInt8] {
        do {
            var buffer = try await request.body.collect(upTo: limit)
            return buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch is NIOTooManyBytesError {
            throw HTTPError(.contentTooLarge, message: "the body is larger than \(limit) bytes")
        }
    }

    static func accepts(_ request: Request, _ mediaType: String) -> Bool {
        guard let accept = request.headers[.accept] else { return false }
        return accept.split(separator: ",").contains { part in
            part.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() == mediaType
        }
    }
}
