/// Builds a `JSONValue` from parse events; both parsers (yajl and streaming) drive one.
///
/// Open containers live in parallel stacks of plain arrays and objects rather than an enum
/// stack, so appending to the innermost container mutates it in place (no copy-on-write
/// copies, which would make building quadratic).
struct ValueBuilder {
    enum Container { case array, object }

    private(set) var containers: [Container] = []
    private var arrays: [[JSONValue]] = []
    private var objects: [JSONObject] = []
    /// The key of the member being parsed, per open object; nil between members.
    private var pendingKeys: [String?] = []
    private(set) var root: JSONValue?

    let maxDepth: Int
    let rejectDuplicateKeys: Bool
    let recordsLocations: Bool
    /// Pointer tokens of the open containers below the root, when recording locations.
    private var path: [String] = []
    /// Start offsets of every node, in document order (so offsets only increase).
    private(set) var nodeOffsets: [(pointer: JSONPointer, offset: Int)] = []
    /// Start offsets of every member key, in document order.
    private(set) var keyOffsets: [(pointer: JSONPointer, offset: Int)] = []

    init(options: JSONParser.Options, recordsLocations: Bool) {
        maxDepth = options.maxDepth
        rejectDuplicateKeys = options.rejectDuplicateKeys
        self.recordsLocations = recordsLocations
    }

    var innermost: Container? { containers.last }
    var depth: Int { containers.count }

    mutating func scalar(_ value: JSONValue, at offset: Int) {
        if recordsLocations { _ = recordNode(at: offset) }
        attach(value)
    }

    /// Starts a member of the innermost object; false when the key repeats and the options reject that.
    mutating func key(_ key: String, at offset: Int) -> Bool {
        let top = objects.count - 1
        if rejectDuplicateKeys && objects[top][key] != nil { return false }
        pendingKeys[top] = key
        if recordsLocations { keyOffsets.append((JSONPointer(tokens: path + [key]), offset)) }
        return true
    }

    /// Opens a container; false when it would nest deeper than `maxDepth`.
    mutating func begin(_ kind: Container, at offset: Int) -> Bool {
        guard containers.count < maxDepth else { return false }
        if recordsLocations, let token = recordNode(at: offset) { path.append(token) }
        containers.append(kind)
        switch kind {
        case .array: arrays.append([])
        case .object:
            objects.append(JSONObject())
            pendingKeys.append(nil)
        }
        return true
    }

    /// Containers up to this many elements are trimmed when they end: small ones are the
    /// many (a run holds thousands), and copying a huge one would slow parsing for little.
    static let trimLimit = 256

    mutating func end() {
        let value: JSONValue
        switch containers.removeLast() {
        case .array:
            let array = arrays.removeLast()
            value = .array(array.count <= Self.trimLimit ? array.withoutSpareCapacity() : array)
        case .object:
            pendingKeys.removeLast()
            var object = objects.removeLast()
            if object.count <= Self.trimLimit { object.trimCapacity() }
            value = .object(object)
        }
        if recordsLocations && !containers.isEmpty { path.removeLast() }
        attach(value)
    }

    /// The value so far with every open container closed, plus `pending` (an unfinished scalar)
    /// where the next value goes. A member whose key is not complete yet is left out.
    func partialValue(including pending: JSONValue?) -> JSONValue? {
        guard !containers.isEmpty else { return root ?? pending }
        var carried = pending
        var arrayIndex = arrays.count - 1
        var objectIndex = objects.count - 1
        for container in containers.reversed() {
            switch container {
            case .array:
                var array = arrays[arrayIndex]
                arrayIndex -= 1
                if let carried { array.append(carried) }
                carried = .array(array)
            case .object:
                var object = objects[objectIndex]
                if let carried, let key = pendingKeys[objectIndex] { object[key] = carried }
                objectIndex -= 1
                carried = .object(object)
            }
        }
        return carried
    }

    private mutating func attach(_ value: JSONValue) {
        switch containers.last {
        case nil: root = value
        case .array: arrays[arrays.count - 1].append(value)
        case .object:
            let top = objects.count - 1
            if let key = pendingKeys[top] {
                objects[top][key] = value
                pendingKeys[top] = nil
            }
        }
    }

    /// Records where the next node starts; returns its pointer token (nil for the root).
    private mutating func recordNode(at offset: Int) -> String? {
        let token: String?
        switch containers.last {
        case nil: token = nil
        case .array: token = String(arrays[arrays.count - 1].count)
        case .object: token = pendingKeys[objects.count - 1] ?? ""
        }
        var tokens = path
        if let token { tokens.append(token) }
        nodeOffsets.append((JSONPointer(tokens: tokens), offset))
        return token
    }
}

/// Turns the text of a JSON number into a value without guessing: integer literals that fit
/// Int64 are `.integer`; everything else (`-0`, `1.0`, `1e2`, huge integers) is `.double`.
enum JSONNumber {
    /// nil when the number does not fit a Double (`1e400`).
    static func value(from text: UnsafeBufferPointer<UInt8>) -> JSONValue? {
        var isInteger = true
        for byte in text where byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            isInteger = false
            break
        }
        let negative = text.first == UInt8(ascii: "-")
        if isInteger, !(negative && text.count == 2 && text[1] == UInt8(ascii: "0")) {
            // Accumulate toward the sign so Int64.min parses without overflow.
            var result: Int64 = 0
            var overflow = false
            for byte in text.dropFirst(negative ? 1 : 0) {
                let digit = Int64(byte &- UInt8(ascii: "0"))
                let (shifted, o1) = result.multipliedReportingOverflow(by: 10)
                let (next, o2) = negative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
                if o1 || o2 {
                    overflow = true
                    break
                }
                result = next
            }
            if !overflow { return .integer(result) }
        }
        guard let double = Double(String(decoding: text, as: UTF8.self)), double.isFinite else { return nil }
        return .double(double)
    }
}
