public import SluiceJSON

/// The question a `waiting` run stopped at: enough to show it to its caller again (from any
/// process) and to check that an answer is for this question and not an older one.
public struct PendingInput: Sendable, Hashable {
    /// The `seq` of the question's `input.requested` event.
    public var seq: Int
    /// The `confirm` step that asks (with its `call_step.` prefix inside a called plan).
    public var step: String
    public var message: String
    public var details: JSONValue

    public init(seq: Int, step: String, message: String, details: JSONValue) {
        self.seq = seq
        self.step = step
        self.message = message
        self.details = details
    }

    /// As a store keeps it (a JSON column).
    public var jsonValue: JSONValue {
        ["seq": .integer(Int64(seq)), "step": .string(step), "message": .string(message), "details": details]
    }

    /// Reads what ``jsonValue`` wrote; nil for anything else.
    public init?(json: JSONValue) {
        guard let seq = json["seq"]?.integerValue, let step = json["step"]?.stringValue, let message = json["message"]?.stringValue else { return nil }
        self.init(seq: Int(seq), step: step, message: message, details: json["details"] ?? .null)
    }
}
