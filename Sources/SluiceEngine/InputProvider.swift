public import SluiceJSON

/// A question a `confirm` step asks a person.
public struct ConfirmationRequest: Sendable {
    public var runID: String
    public var step: String
    /// The rendered question.
    public var message: String
    /// What the person is approving (e.g. the outline).
    public var details: JSONValue

    public init(runID: String, step: String, message: String, details: JSONValue) {
        self.runID = runID
        self.step = step
        self.message = message
        self.details = details
    }
}

/// Someone who can answer a `confirm` step: a terminal prompt on a TTY, an MCP elicitation, an
/// HTTP client. With none, a confirm step applies its `fallback`.
public protocol InputProvider: Sendable {
    /// Whether the person approves. Must end promptly with `CancellationError` when the run is cancelled.
    func confirm(_ request: ConfirmationRequest) async throws -> Bool
}

/// Answers every confirmation the same way (tests, scripted runs).
public struct FixedInputProvider: InputProvider {
    public var approve: Bool

    public init(approve: Bool) {
        self.approve = approve
    }

    public func confirm(_ request: ConfirmationRequest) async throws -> Bool {
        try Task.checkCancellation()
        return approve
    }
}
