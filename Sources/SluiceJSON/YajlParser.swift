private import CYajl

/// Parses one complete buffer with yajl, building values with a ``ValueBuilder``.
///
/// Following NIO's llhttp wrapper: this final class owns the handle (freed in `deinit`),
/// passes itself to yajl as an unretained context, and its callbacks are non-capturing
/// closures that forward to it. A callback that refuses a token (a duplicate key, nesting
/// too deep, invalid UTF-8, an unpaired surrogate, a number out of range) stops the parse;
/// the caller then asks ``StreamingParser`` for the exact reason and position.
final class YajlParser {
    private let callbacks: UnsafeMutablePointer<yajl_callbacks>
    private var handle: yajl_handle?
    private(set) var builder: ValueBuilder
    private var input = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
    /// Where the previous token ended; the next token starts after whitespace, `,` and `:`.
    private var previousEnd = 0
    /// Inside `yajl_complete_parse`, which feeds yajl a lone space instead of our buffer.
    private var finishing = false
    /// yajl also skips form feed and vertical tab as whitespace; JSON does not.
    private var sawNonJSONWhitespace = false

    init(options: JSONParser.Options, recordsLocations: Bool) {
        builder = ValueBuilder(options: options, recordsLocations: recordsLocations)
        // yajl keeps this pointer (it does not copy the struct), so it lives as long as the handle.
        callbacks = .allocate(capacity: 1)
        callbacks.initialize(
            to: yajl_callbacks(
                yajl_null: { context in YajlParser.from(context).scalar(.null) },
                yajl_boolean: { context, value in YajlParser.from(context).scalar(.bool(value != 0)) },
                yajl_integer: nil,
                yajl_double: nil,
                yajl_number: { context, text, length in
                    YajlParser.from(context).number(UnsafeRawPointer(text), length)
                },
                yajl_string: { context, text, length in YajlParser.from(context).string(text, length, isKey: false) },
                yajl_start_map: { context in YajlParser.from(context).begin(.object) },
                yajl_map_key: { context, text, length in YajlParser.from(context).string(text, length, isKey: true) },
                yajl_end_map: { context in YajlParser.from(context).end() },
                yajl_start_array: { context in YajlParser.from(context).begin(.array) },
                yajl_end_array: { context in YajlParser.from(context).end() }
            )
        )
        handle = yajl_alloc(callbacks, nil, Unmanaged.passUnretained(self).toOpaque())
    }

    deinit {
        if let handle { yajl_free(handle) }
        callbacks.deinitialize(count: 1)
        callbacks.deallocate()
    }

    /// Parses the whole of `bytes`; false when yajl or a callback rejected it.
    func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let handle, let base = bytes.baseAddress, !bytes.isEmpty else { return false }
        input = bytes
        defer { input = UnsafeBufferPointer(start: nil, count: 0) }
        guard yajl_parse(handle, base, bytes.count) == yajl_status_ok else { return false }
        finishing = true
        guard yajl_complete_parse(handle) == yajl_status_ok, builder.root != nil, !sawNonJSONWhitespace else { return false }
        // yajl takes an incomplete token after the value (`1"`) for the start of more input,
        // and does not complain at the end; only whitespace may follow the value.
        return bytes[previousEnd...].allSatisfy { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
    }

    /// yajl's own description of its error, for the rare case the streaming parser accepts the input.
    var yajlErrorText: (text: String, offset: Int) {
        guard let handle, let raw = yajl_get_error(handle, 0, nil, 0) else { return ("unknown error", 0) }
        defer { yajl_free_error(handle, raw) }
        let text = String(cString: raw).trimmingTrailingWhitespace
        return (text, Int(yajl_get_bytes_consumed(handle)))
    }

    private static func from(_ context: UnsafeMutableRawPointer?) -> YajlParser {
        // The context is always the parser that registered itself in init.
        Unmanaged<YajlParser>.fromOpaque(context!).takeUnretainedValue()
    }

    /// The current token's start and end offsets in `input`. yajl reports where it stopped
    /// reading; the token starts after the whitespace and separators since the previous one.
    /// Only a number can end inside `yajl_complete_parse`, so its `length` is passed.
    private func currentToken(length: Int? = nil) -> (start: Int, end: Int) {
        var start = previousEnd
        scan: while start < input.count {
            switch input[start] {
            case 0x20, 0x09, 0x0A, 0x0D, UInt8(ascii: ","), UInt8(ascii: ":"): start += 1
            case 0x0B, 0x0C:
                sawNonJSONWhitespace = true
                start += 1
            default: break scan
            }
        }
        let end = finishing ? min(start + (length ?? 0), input.count) : min(Int(yajl_get_bytes_consumed(handle)), input.count)
        previousEnd = end
        return (start, end)
    }

    private func scalar(_ value: JSONValue) -> Int32 {
        builder.scalar(value, at: currentToken().start)
        return sawNonJSONWhitespace ? 0 : 1
    }

    private func number(_ text: UnsafeRawPointer?, _ length: Int) -> Int32 {
        let start = currentToken(length: length).start
        guard let text, !sawNonJSONWhitespace else { return 0 }
        let bytes = UnsafeBufferPointer(start: text.assumingMemoryBound(to: UInt8.self), count: length)
        guard let value = JSONNumber.value(from: bytes) else { return 0 }
        builder.scalar(value, at: start)
        return 1
    }

    private func string(_ text: UnsafePointer<UInt8>?, _ length: Int, isKey: Bool) -> Int32 {
        let (start, end) = currentToken()
        if sawNonJSONWhitespace { return 0 }
        let decoded: String?
        if let text, let base = input.baseAddress, text >= base, text + length <= base + input.count {
            // No escapes: yajl points into our buffer. Its UTF-8 check is lax (it lets
            // overlongs and surrogates through), so validate strictly here.
            decoded = String(validating: UnsafeBufferPointer(start: text, count: length), as: UTF8.self)
        } else {
            // Escapes: decode the raw token ourselves, because yajl turns unpaired surrogates into '?'.
            decoded = decodeEscaped(start: start, end: end)
        }
        guard let decoded else { return 0 }
        if isKey {
            return builder.key(decoded, at: start) ? 1 : 0
        }
        builder.scalar(.string(decoded), at: start)
        return 1
    }

    private func decodeEscaped(start: Int, end: Int) -> String? {
        guard start < end, end <= input.count else { return nil }
        var decoder = StreamingParser(options: .default)
        decoder.startString(isKey: false, at: start)
        var index = start + 1
        let token = UnsafeBufferPointer(rebasing: input[0..<end])
        do throws(ParseFailure) {
            try decoder.consumeString(token, &index, base: 0)
        } catch {
            return nil
        }
        return decoder.builder.root?.stringValue
    }

    private func begin(_ container: ValueBuilder.Container) -> Int32 {
        let start = currentToken().start
        return !sawNonJSONWhitespace && builder.begin(container, at: start) ? 1 : 0
    }

    private func end() -> Int32 {
        _ = currentToken()
        builder.end()
        return sawNonJSONWhitespace ? 0 : 1
    }
}

extension String {
    fileprivate var trimmingTrailingWhitespace: String {
        var result = self
        while let last = result.last, last.isWhitespace { result.removeLast() }
        return result
    }
}
