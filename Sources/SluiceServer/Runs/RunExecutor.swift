import SluiceEngine
public import SluiceJSON
public import SluiceProviders
public import SluiceRunLog

/// Someone who can answer a plan's `confirm` step while a run waits: an MCP client through
/// elicitation, or nobody (then the plan's fallback applies).
public protocol ConfirmationChannel: Sendable {
    /// Whether the person approves. Ends with `CancellationError` when the run is cancelled.
    func confirm(step: String, message: String, details: JSONValue) async throws -> Bool
    /// The same, knowing which run asks (a channel that parks runs by id needs it).
    func confirm(runID: String, step: String, message: String, details: JSONValue) async throws -> Bool
}

extension ConfirmationChannel {
    public func confirm(runID: String, step: String, message: String, details: JSONValue) async throws -> Bool {
        try await confirm(step: step, message: message, details: details)
    }
}

/// What a transport adds to a run beyond the plan and its inputs.
public struct RunServices: Sendable {
    /// Who answers `confirm` steps; nil when nobody can be asked.
    public var confirmation: (any ConfirmationChannel)?
    /// Replaces the server's model provider for this run (MCP sampling through the calling client).
    public var model: (any ModelProvider)?
    /// The caller answers `confirm` steps by retrying its request (MCP 2026-07-28 input
    /// requests and tasks): at a question, a durable executor parks the run in its store as
    /// `waiting` and ends its execution (result status ``RunStatus/waiting``); the retry, on
    /// any server sharing the store, resumes it with ``answer``. Needs a durable executor.
    public var answersByRetry: Bool
    /// The answer a retry brought, for the question the resumed run stopped at.
    public var answer: RetryAnswer?
    /// The caller's W3C `traceparent` (an HTTP request header, or `_meta.traceparent` of an
    /// MCP call): a traced run's workflow span continues that trace.
    public var traceparent: String?
    /// What the transport keeps with the run's record (its `options`), e.g. the MCP
    /// 2025-11-25 task the run is (see ``SluiceStore/MCPTaskRecord``); a durable executor
    /// records it, others ignore it.
    public var recordedOptions: JSONObject

    public init(
        confirmation: (any ConfirmationChannel)? = nil, model: (any ModelProvider)? = nil, answersByRetry: Bool = false,
        answer: RetryAnswer? = nil, traceparent: String? = nil, recordedOptions: JSONObject = JSONObject()
    ) {
        self.recordedOptions = recordedOptions
        self.confirmation = confirmation
        self.model = model
        self.answersByRetry = answersByRetry
        self.answer = answer
        self.traceparent = traceparent
    }
}

/// One run to execute.
public struct RunRequest: Sendable {
    public var runID: String
    public var plan: ServedPlan
    /// Validated, with the schema's defaults applied.
    public var inputs: JSONValue
    public var user: String
    public var services: RunServices
    /// Continue the stored run `runID` from its checkpoints instead of starting it (only an
    /// executor with a durable store can; others fail the run).
    public var resumesStoredRun: Bool
    /// For a stored-run resume on a shared queue: the user's `--runs-per-user`, checked again
    /// when the run is claimed, as one step with the claim (nil: not checked there).
    public var claimedWithin: Int?

    public init(runID: String, plan: ServedPlan, inputs: JSONValue, user: String, services: RunServices = RunServices(), resumesStoredRun: Bool = false) {
        self.runID = runID
        self.plan = plan
        self.inputs = inputs
        self.user = user
        self.services = services
        self.resumesStoredRun = resumesStoredRun
    }
}

/// A run's state as every transport reports it.
public enum RunStatus: String, Sendable, Hashable {
    case running, completed, failed, cancelled
    /// Its execution here ended at a question its caller answers by retrying: the run waits in
    /// the durable store (`waiting`), and the answer resumes it there (see ``RunServices/answersByRetry``).
    case waiting

    public var isFinished: Bool { self != .running }
}

/// How a run ended.
public struct RunResult: Sendable {
    public var status: RunStatus
    /// The plan's output, for completed runs.
    public var result: JSONValue?
    /// `{type, message}` for failed and cancelled runs.
    public var errorType: String?
    public var errorMessage: String?
    /// Seed 000's billing decision; a failed run is not billed.
    public var billing: JSONValue
    /// `{input_tokens, output_tokens, total_tokens, cost_usd, model_calls}` when known.
    public var usage: JSONValue

    public init(status: RunStatus, result: JSONValue? = nil, errorType: String? = nil, errorMessage: String? = nil, billing: JSONValue = .null, usage: JSONValue = .null) {
        self.status = status
        self.result = result
        self.errorType = errorType
        self.errorMessage = errorMessage
        self.billing = billing
        self.usage = usage
    }
}

/// Executes runs: the real engine in production, a scripted fake in tests.
///
/// The executor streams the run's events (numbered from 1) to `sink` and returns when the
/// run has ended and the last event has been delivered. Cancelling the calling task must end the
/// run promptly with a `run.cancelled` event and a `cancelled` result.
public protocol RunExecutor: Sendable {
    func execute(_ request: RunRequest, sink: any EventSink) async -> RunResult

    /// The executor's durable half, when it records runs in a store: the server reads stored
    /// runs, follows runs executing elsewhere, shares the run queue and MCP state, resumes
    /// and hands back runs through it. Nil (the default) for an executor that records
    /// nothing; one wrapping a durable executor passes its `durable` on.
    var durable: DurableRunExecutor? { get }
}

extension RunExecutor {
    public var durable: DurableRunExecutor? { nil }
}
