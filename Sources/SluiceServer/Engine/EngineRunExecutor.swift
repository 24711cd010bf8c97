public import SluiceEngine
import SluiceJSON
import SluiceProviders
public import SluiceRunLog
public import SluiceTracing

/// Runs plans with SluiceEngine's ``RunEngine``.
///
/// Per run, the transport's services replace the server's: an MCP client's elicitation answers
/// `confirm` steps, and with client sampling every model call goes to the client.
public struct EngineRunExecutor: RunExecutor {
    public var providers: RunEngine.Providers
    public var configuration: RunEngine.Configuration
    /// Where runs' spans go (`OTEL_EXPORTER_OTLP_ENDPOINT` set); nil: runs are not traced.
    public var traces: TraceExport?
    /// The model named when a run samples through its client and the plan names none.
    public static let samplingModel = "sampling:client"

    public init(providers: RunEngine.Providers, configuration: RunEngine.Configuration = RunEngine.Configuration()) {
        self.providers = providers
        self.configuration = configuration
    }

    public func execute(_ request: RunRequest, sink: any EventSink) async -> RunResult {
        guard !request.resumesStoredRun else {
            return RunResult(status: .failed, errorType: "store_unavailable", errorMessage: "this server keeps no runs to resume (--no-store)", billing: ["billable": false])
        }
        return await execute(request, sink: sink, resume: nil)
    }

    /// Runs the plan, or continues it from `resume` (the store's checkpoints of a stopped run).
    func execute(_ request: RunRequest, sink: any EventSink, resume: ResumeState?) async -> RunResult {
        guard let plan = request.plan.plan else {
            return RunResult(status: .failed, errorType: "plan_unavailable", errorMessage: "the plan '\(request.plan.name)' is not loaded", billing: ["billable": false])
        }
        var providers = self.providers
        var configuration = self.configuration
        if let model = request.services.model {
            providers.model = model
            if configuration.defaultModel == nil { configuration.defaultModel = Self.samplingModel }
        }
        if let confirmation = request.services.confirmation {
            providers.input = ConfirmationInputProvider(channel: confirmation)
        }
        let runID = request.runID
        configuration.makeRunID = { runID }
        // Traced outermost, so sampled, cached and checkpointed answers get their spans too.
        let tracer = traces?.runTracer(traceparent: request.services.traceparent)
        let sinks: [any EventSink] = tracer.map { [sink, $0] } ?? [sink]
        let outcome = await RunEngine(providers: providers.traced(by: tracer), configuration: configuration)
            .run(plan: plan, inputs: request.inputs, sinks: sinks, resume: resume)
        return Self.result(of: outcome)
    }

    static func result(of outcome: RunOutcome) -> RunResult {
        let usage: JSONValue = [
            "input_tokens": .integer(Int64(outcome.usage.inputTokens)),
            "output_tokens": .integer(Int64(outcome.usage.outputTokens)),
            "total_tokens": .integer(Int64(outcome.usage.totalTokens)),
            "cost_usd": .double(outcome.usage.costUSD),
            "model_calls": .integer(Int64(outcome.usage.modelCalls)),
        ]
        switch outcome.status {
        case .completed:
            return RunResult(status: .completed, result: outcome.result ?? .null, billing: outcome.billing, usage: usage)
        case .failed:
            return RunResult(
                status: .failed, errorType: outcome.failure?.kind.rawValue ?? "failed",
                errorMessage: outcome.failure?.message ?? "the run failed", billing: outcome.billing, usage: usage
            )
        case .cancelled:
            return RunResult(
                status: .cancelled, errorType: "cancelled", errorMessage: outcome.failure?.message ?? "the run was cancelled",
                billing: outcome.billing, usage: usage
            )
        }
    }
}

/// Answers the engine's `confirm` steps through a transport's ``ConfirmationChannel``.
struct ConfirmationInputProvider: InputProvider {
    let channel: any ConfirmationChannel

    func confirm(_ request: ConfirmationRequest) async throws -> Bool {
        try await channel.confirm(runID: request.runID, step: request.step, message: request.message, details: request.details)
    }
}
