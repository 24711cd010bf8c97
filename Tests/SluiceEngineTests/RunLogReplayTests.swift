import Foundation
import SluiceEngine
import SluiceJSON
import SluicePlan
import SluiceProviders
import SluiceRunLog
import SluiceTesting
import Testing

/// A resume reads the engine's log back (``RunLogReplay``): the usage it finds is the usage the
/// run reported, and every step started and never ended gets its `interrupted` ending.
@Suite struct RunLogReplayTests {
    static let plan = """
        {"name": "two", "models": {"default": "x:m"}, "steps": [
          {"id": "first", "kind": "llm", "prompt": "one"},
          {"id": "second", "kind": "llm", "prompt": "two", "max_repairs": 1,
           "schema": {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}}]}
        """

    /// Unpriced calls that fail, calls that succeed, and the simulated model (priced at 0, marked simulated).
    static let models: [(name: String, model: any ModelProvider)] = [
        ("failing", UsageAccountingTests.TellingModel(calls: [.invalid, .truncated], fails: true)),
        ("answering", UsageAccountingTests.TellingModel(calls: [.invalid, .repaired], fails: false)),
        ("simulated", SimulatedModel(configuration: .init(chunkDelay: .zero))),
    ]

    @Test(arguments: models.indices) func theUsageReadBackFromALogIsTheUsageTheRunReported(index: Int) async throws {
        let (name, model) = Self.models[index]
        let (outcome, events) = await Harness.run(try Harness.plan(Self.plan), providers: Harness.providers(model: model))
        let replay = RunLogReplay(runID: outcome.runID, log: events, simulatedProvider: SimulatedModel.providerName)
        #expect(replay.usage.modelCalls > 0, "\(name)")
        #expect(replay.usage == outcome.usage, "\(name)")
        #expect(replay.lastSeq == events.last?.seq)
        // A finished run has no open step.
        #expect(replay.openSteps.isEmpty)
        #expect(replay.interruptions(now: Date()).isEmpty)
    }

    @Test func everyStepStartedAndNeverEndedGetsAnInterruptedEndingInnermostFirst() throws {
        let start = Date(timeIntervalSince1970: 1_000)
        func event(_ seq: Int, _ type: EventType, _ step: String?, item: Int? = nil, iteration: Int? = nil) -> RunEvent {
            RunEvent(seq: seq, runID: "r", time: start, type: type, step: step, item: item, iteration: iteration)
        }
        let log = [
            event(1, .runStarted, nil),
            event(2, .stepStarted, "each"),
            event(3, .stepStarted, "each/say", item: 0),
            event(4, .stepCompleted, "each/say", item: 0),
            event(5, .stepStarted, "each/say", item: 1),
            event(6, .stepStarted, "rounds/draft", iteration: 1),
            event(7, .stepFailed, "rounds/draft", iteration: 1),
            // A second end of an ended step (a damaged log) is ignored, not a crash.
            event(8, .stepCompleted, "each/say", item: 0),
        ]
        let replay = RunLogReplay(runID: "r", log: log, simulatedProvider: SimulatedModel.providerName)
        #expect(replay.openSteps.map(\.seq) == [2, 5])
        let endings = replay.interruptions(now: start.addingTimeInterval(2))
        #expect(endings.map(\.seq) == [9, 10])
        #expect(endings.map(\.step) == ["each/say", "each"])
        #expect(endings.map(\.item) == [1, nil])
        #expect(endings.allSatisfy { $0.type == .stepFailed && $0.data["error"]?["type"] == "interrupted" && $0.runID == "r" })
        #expect(endings.first?.data["duration_ms"] == 2000)
    }

    @Test func aModelUsageRecordReadsBackWhatItWrites() throws {
        for cost in [0.25, nil] as [Double?] {
            let record = ModelUsageRecord(provider: "p", model: "m", inputTokens: 3, outputTokens: 4, costUSD: cost)
            var data = record.data
            data["attempt"] = 1
            let event = RunEvent(seq: 1, runID: "r", time: Date(), type: .modelUsage, data: .object(data))
            #expect(ModelUsageRecord(event) == record)
        }
        #expect(ModelUsageRecord(RunEvent(seq: 1, runID: "r", time: Date(), type: .stepStarted)) == nil)
    }
}
