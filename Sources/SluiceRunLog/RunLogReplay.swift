public import Foundation
public import SluiceJSON

/// The data of a `model.usage` event: one answered model call and what it cost.
///
/// The engine writes it and a resume reads it back (``RunLogReplay``), through this one type,
/// so the two sides cannot disagree on a member name. Other members (`attempt`, `outcome`,
/// `cache`…) are the engine's business and pass through untouched.
public struct ModelUsageRecord: Sendable, Hashable {
    public var provider: String
    public var model: String
    public var inputTokens: Int
    public var outputTokens: Int
    /// nil when the model has no price (written as `null`).
    public var costUSD: Double?

    public init(provider: String, model: String, inputTokens: Int, outputTokens: Int, costUSD: Double?) {
        self.provider = provider
        self.model = model
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.costUSD = costUSD
    }

    /// Reads the record of a `model.usage` event; absent counts read as 0, as an old log may
    /// lack them (nil for any other event type).
    public init?(_ event: RunEvent) {
        guard event.type == .modelUsage else { return nil }
        provider = event.data["provider"]?.stringValue ?? ""
        model = event.data["model"]?.stringValue ?? ""
        inputTokens = Int(event.data["input_tokens"]?.integerValue ?? 0)
        outputTokens = Int(event.data["output_tokens"]?.integerValue ?? 0)
        costUSD = event.data["cost_usd"]?.doubleValue
    }

    /// `{provider, model, input_tokens, output_tokens, cost_usd}`, the start of the event's data.
    public var data: JSONObject {
        [
            "provider": .string(provider),
            "model": .string(model),
            "input_tokens": .integer(Int64(inputTokens)),
            "output_tokens": .integer(Int64(outputTokens)),
            "cost_usd": costUSD.map { .double($0) } ?? .null,
        ]
    }
}

/// Where a step execution sits in the log: its step id, map item and loop round. A
/// `step.started` and the event that ends it share one place.
public struct StepPlace: Sendable, Hashable {
    public var step: String?
    public var item: Int?
    public var iteration: Int?

    public init(_ event: RunEvent) {
        step = event.step
        item = event.item
        iteration = event.iteration
    }
}

/// A stopped run's log read back, for a resume: the usage it already paid for, the steps it
/// started and never ended, and its last `seq`.
///
/// ```swift
/// let replay = RunLogReplay(try await store.events(runID: id, after: 0, limit: nil), simulatedProvider: "simulated")
/// let endings = replay.interruptions(now: Date())   // append them, then resume from replay.lastSeq + endings.count + 1
/// ```
public struct RunLogReplay: Sendable {
    /// The totals of the log's `model.usage` events.
    public var usage = UsageTotals()
    /// The `step.started` events with no end, in `seq` order.
    public var openSteps: [RunEvent] = []
    /// The `seq` of the log's last event (0 for an empty log).
    public var lastSeq = 0
    public let runID: String

    /// - Parameter simulatedProvider: the provider name of the offline simulated model, whose
    ///   calls mark the totals `simulated` (the name belongs to the providers, not to the log).
    public init(runID: String, log: [RunEvent], simulatedProvider: String) {
        self.runID = runID
        var open: [StepPlace: [RunEvent]] = [:]
        for event in log {
            switch event.type {
            case .modelUsage:
                if let call = ModelUsageRecord(event) { usage.count(call, simulated: call.provider == simulatedProvider) }
            case .stepStarted:
                open[StepPlace(event), default: []].append(event)
            case .stepCompleted, .stepSkipped, .stepFailed:
                _ = open[StepPlace(event)]?.popLast()
            default:
                break
            }
        }
        openSteps = open.values.flatMap { $0 }.sorted { $0.seq < $1.seq }
        lastSeq = log.last?.seq ?? 0
    }

    /// A `step.failed` (type `interrupted`) for each open step, innermost (latest) first, with
    /// the `seq`s after ``lastSeq``: appended, every started step in the log ends and the log
    /// stays one gapless sequence.
    public func interruptions(now: Date) -> [RunEvent] {
        var seq = lastSeq
        return openSteps.reversed().map { started -> RunEvent in
            seq += 1
            return RunEvent(
                seq: seq, runID: runID, time: now, type: .stepFailed, step: started.step, item: started.item, iteration: started.iteration,
                data: [
                    "error": ["type": "interrupted", "message": "the run stopped before this step ended; it runs again on resume"],
                    "duration_ms": .integer(Int64(max(0, now.timeIntervalSince(started.time)) * 1000)),
                ])
        }
    }
}

extension UsageTotals {
    /// Counts one model call of a log (its cost when it had one, else as unpriced).
    public mutating func count(_ call: ModelUsageRecord, simulated: Bool) {
        inputTokens += call.inputTokens
        outputTokens += call.outputTokens
        modelCalls += 1
        if let cost = call.costUSD { costUSD += cost } else { unpricedCalls += 1 }
        if simulated { self.simulated = true }
    }
}
