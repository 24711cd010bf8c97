/// Parses a JSON document that arrives in pieces, such as model output streamed token by token.
///
/// ```swift
/// let parser = JSONIncrementalParser()
/// for try await chunk in stream {
///     try parser.feed(chunk)
///     show(parser.partialValue)     // e.g. {"title": "Quarterly rep"} mid-string
/// }
/// let value = try parser.finish()
/// ```
///
/// Each byte is read once, whatever the chunking: an open string keeps its decoded prefix
/// (escapes and multibyte characters split across chunks continue in the next chunk), so the
/// total work is linear in the input. The value read so far is available at any moment.
///
/// #### Errors
/// The same ``JSONParseError``s, with the same messages and positions, as ``JSONParser``.
/// `feed` throws as soon as the input cannot be JSON; after an error every call rethrows it.
public final class JSONIncrementalParser {
    private var parser: StreamingParser
    /// Everything fed so far: errors are worded and located against it.
    private var received: [UInt8] = []
    private let options: JSONParser.Options
    private var failure: JSONParseError?
    private var result: JSONValue?
    private var cachedPartial: (count: Int, value: JSONValue?)?

    public init(options: JSONParser.Options = .default) {
        self.options = options
        parser = StreamingParser(options: options)
    }

    /// How many bytes have been fed.
    public var bytesReceived: Int { received.count }

    /// Reads the next piece of the document.
    /// - Throws: ``JSONParseError`` when the input so far cannot be the start of a JSON document,
    ///   or grows past ``JSONParser/Options/maxBytes``.
    public func feed(_ bytes: some Collection<UInt8>) throws(JSONParseError) {
        // This generic entry point is not specialized across the module boundary, so hand
        // contiguous input (arrays, slices, Data) to the non-generic path in one call.
        let contiguous = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(JSONParseError) in try feed(buffer: buffer) }
        }
        let outcome = contiguous ?? Array(bytes).withUnsafeBufferPointer { buffer in
            Result { () throws(JSONParseError) in try feed(buffer: buffer) }
        }
        try outcome.get()
    }

    private func feed(buffer bytes: UnsafeBufferPointer<UInt8>) throws(JSONParseError) {
        if let failure { throw failure }
        let start = received.count
        if result != nil {
            throw record(ParseFailure(.alreadyFinished, at: start))
        }
        received.append(contentsOf: bytes)
        let accepted = min(received.count, options.maxBytes)
        do throws(ParseFailure) {
            if accepted > start {
                try received.withUnsafeBufferPointer { buffer throws(ParseFailure) in
                    try parser.consume(UnsafeBufferPointer(rebasing: buffer[start..<accepted]), at: start)
                }
            }
            if received.count > options.maxBytes {
                throw ParseFailure(.streamTooLarge(limit: options.maxBytes), at: options.maxBytes)
            }
        } catch {
            throw record(error)
        }
    }

    /// The value read so far: open arrays and objects closed, an open string's decoded prefix,
    /// a number when its text so far is a whole number. A member whose key is still open, or
    /// whose value has not started, is left out. nil before the first value starts.
    ///
    /// This copies the open containers (cost proportional to the value), so it is computed at
    /// most once per `feed`.
    public var partialValue: JSONValue? {
        if let result { return result }
        if let cachedPartial, cachedPartial.count == received.count { return cachedPartial.value }
        let value = parser.partialValue
        cachedPartial = (received.count, value)
        return value
    }

    /// Ends the input and returns the document.
    /// - Throws: ``JSONParseError`` when the document is incomplete or was invalid.
    public func finish() throws(JSONParseError) -> JSONValue {
        if let failure { throw failure }
        if let result { return result }
        do throws(ParseFailure) {
            let value = try parser.finish(at: received.count)
            result = value
            return value
        } catch {
            throw record(error)
        }
    }

    private func record(_ failure: ParseFailure) -> JSONParseError {
        let error = received.withUnsafeBufferPointer { failure.error(in: $0) }
        self.failure = error
        return error
    }
}
