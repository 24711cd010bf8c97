/// Parses complete JSON documents (RFC 8259) with libyajl.
///
/// ```swift
/// let value = try JSONParser.parse(#"{"id": 7, "tags": ["a"]}"#)
/// let document = try JSONParser.parseDocument(bytes, options: .strict)
/// document.location(of: JSONPointer(tokens: ["tags", "0"]))  // 1:19
/// ```
///
/// Integer literals that fit Int64 become `.integer`; every other number (`-0`, `1.0`, `1e2`,
/// integers too large for Int64) becomes `.double`. Nothing is guessed from string contents.
///
/// #### Errors
/// A ``JSONParseError`` names the problem and its line:column (columns count characters):
/// empty document, unexpected end of input, unexpected characters, missing or trailing commas,
/// invalid escapes, unpaired surrogates, invalid UTF-8, control characters in strings,
/// invalid or out-of-range numbers, trailing characters after the value, duplicate keys (with
/// ``Options/rejectDuplicateKeys``), nesting deeper than ``Options/maxDepth`` and inputs
/// larger than ``Options/maxBytes``.
public struct JSONParser {
    /// Limits and strictness of a parse.
    public struct Options: Sendable {
        /// The deepest nesting of arrays and objects allowed (the root container is level 1).
        public var maxDepth: Int
        /// The largest input accepted, in bytes.
        public var maxBytes: Int
        /// Reject an object that repeats a key (plans do); otherwise the last value wins.
        public var rejectDuplicateKeys: Bool

        public init(maxDepth: Int = 512, maxBytes: Int = 64 << 20, rejectDuplicateKeys: Bool = false) {
            self.maxDepth = maxDepth
            self.maxBytes = maxBytes
            self.rejectDuplicateKeys = rejectDuplicateKeys
        }

        public static let `default` = Options()
        /// The default limits, rejecting duplicate keys.
        public static let strict = Options(rejectDuplicateKeys: true)
    }

    /// Parses one JSON document from UTF-8 bytes.
    /// - Throws: ``JSONParseError`` saying what is wrong and where.
    public static func parse(_ bytes: [UInt8], options: Options = .default) throws(JSONParseError) -> JSONValue {
        try run(bytes, options: options, recordsLocations: false).root ?? .null
    }

    /// Parses one JSON document from a string.
    /// - Throws: ``JSONParseError`` saying what is wrong and where.
    public static func parse(_ text: String, options: Options = .default) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8), options: options)
    }

    /// Parses one JSON document and remembers where every node and every member key starts.
    /// - Throws: ``JSONParseError`` saying what is wrong and where.
    public static func parseDocument(_ bytes: [UInt8], options: Options = .default) throws(JSONParseError) -> JSONDocument {
        let builder = try run(bytes, options: options, recordsLocations: true)
        return bytes.withUnsafeBufferPointer { buffer in
            var tracker = LocationTracker()
            var locations: [JSONPointer: SourceLocation] = [:]
            locations.reserveCapacity(builder.nodeOffsets.count)
            for (pointer, offset) in builder.nodeOffsets {
                locations[pointer] = tracker.advance(to: offset, in: buffer)
            }
            var keyTracker = LocationTracker()
            var keyLocations: [JSONPointer: SourceLocation] = [:]
            keyLocations.reserveCapacity(builder.keyOffsets.count)
            for (pointer, offset) in builder.keyOffsets {
                keyLocations[pointer] = keyTracker.advance(to: offset, in: buffer)
            }
            return JSONDocument(value: builder.root ?? .null, locations: locations, keyLocations: keyLocations)
        }
    }

    /// Parses one JSON document from a string, remembering node locations.
    /// - Throws: ``JSONParseError`` saying what is wrong and where.
    public static func parseDocument(_ text: String, options: Options = .default) throws(JSONParseError) -> JSONDocument {
        try parseDocument(Array(text.utf8), options: options)
    }

    private static func run(_ bytes: [UInt8], options: Options, recordsLocations: Bool) throws(JSONParseError) -> ValueBuilder {
        let result: Result<ValueBuilder, JSONParseError> = bytes.withUnsafeBufferPointer { buffer in
            if buffer.count > options.maxBytes {
                return .failure(ParseFailure(.tooLarge(size: buffer.count, limit: options.maxBytes), at: 0).error(in: buffer))
            }
            let parser = YajlParser(options: options, recordsLocations: recordsLocations)
            if parser.parse(buffer) { return .success(parser.builder) }
            return .failure(explainFailure(in: buffer, options: options, yajl: parser))
        }
        return try result.get()
    }

    /// yajl says the input is bad; the streaming parser says exactly why and where.
    private static func explainFailure(in buffer: UnsafeBufferPointer<UInt8>, options: Options, yajl: YajlParser) -> JSONParseError {
        var diagnosis = StreamingParser(options: options)
        do throws(ParseFailure) {
            try diagnosis.consume(buffer, at: 0)
            _ = try diagnosis.finish(at: buffer.count)
        } catch {
            return error.error(in: buffer)
        }
        // Both parsers are meant to agree; if they ever do not, still report yajl's finding.
        let (text, offset) = yajl.yajlErrorText
        return ParseFailure(.underlying(text), at: offset).error(in: buffer)
    }
}
