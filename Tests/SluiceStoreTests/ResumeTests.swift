import Foundation
import SluiceEngine
import SluiceJSON
import SluicePlan
import SluiceProviders
import SluiceRunLog
import SluiceStore
import SluiceTesting
import Synchronization
import Testing

/// Resume in process: completed steps, map items, loop rounds and provider calls are not
/// repeated, and the log continues with the next seq.
@Suite struct ResumeTests {
    static let plan = #"""
    {"name": "durable", "models": {"default": "x:m"},
     "steps": [
       {"id": "intro", "kind": "llm", "prompt": "intro"},
       {"id": "each", "kind": "map", "over": "inputs.items", "concurrency": 1,
        "steps": [{"id": "say", "kind": "llm", "prompt": "item {{item}}"}]},
       {"id": "rounds", "kind": "loop", "max_iterations": 2,
        "steps": [{"id": "draft", "kind": "llm", "prompt": "round {{loop.iteration}}"}]},
       {"id": "final", "kind": "llm", "prompt": "final after {{steps.intro.output}}"}
     ]}
    """#

    @Test(arguments: StoreBackend.all) func aFailedRunContinuesWithoutRepeatingCompletedWork(backend: StoreBackend) async throws {
        let temporary = try await TemporaryStore(backend)
        defer { temporary.remove() }
        let store = temporary.store
        let plan = try StoreHarness.plan(Self.plan)
        let inputs: JSONValue = ["items": [0, 1, 2, 3]]
        let failing = Mutex(true)
        let model = ScriptedModel { request, _ in
            if request.prompt == "item 2", failing.withLock({ $0 }) {
                throw ProviderError(.invalidRequest, "item 2 is refused", provider: "x")
            }
            return "answer to " + request.prompt
        }
        let (first, _) = try await StoreHarness.run(plan, id: "r1", store: store, model: model, inputs: inputs)
        #expect(first.status == .failed)
        #expect(model.requests.map(\.prompt) == ["intro", "item 0", "item 1", "item 2"])
        #expect(try await store.run(id: "r1")?.status == .failed)

        failing.withLock { $0 = false }
        let prepared = try await store.prepareResume(id: "r1")
        let stored = try await store.events(runID: "r1", after: 0, limit: nil)
        #expect(prepared.state.nextSeq == (stored.last?.seq ?? 0) + 1)
        let (second, seen) = try await StoreHarness.run(plan, id: "r1", store: store, model: model, inputs: inputs, resume: prepared)
        #expect(second.status == .completed, "\(String(describing: second.failure))")
        // Only what had not completed was asked again.
        #expect(model.requests.dropFirst(4).map(\.prompt) == ["item 2", "item 3", "round 1", "round 2", "final after answer to intro"])
        #expect(second.result?["each"] == ["answer to item 0", "answer to item 1", "answer to item 2", "answer to item 3"])
        #expect(seen.first?.type == .runResumed)
        #expect(seen.first?.seq == prepared.state.nextSeq)
        // The usage totals count the whole run: 4 + 5 paid calls (the refused one paid nothing).
        #expect(second.usage.modelCalls == 3 + 5)

        let log = try await store.events(runID: "r1", after: 0, limit: nil)
        #expect(log.map(\.seq) == Array(1...log.count))
        #expect(log.filter { $0.type == .runStarted }.count == 1)
        #expect(log.last?.type == .runCompleted)
        #expect(log.filter { $0.type == .stepCompleted && $0.step == "say" }.compactMap(\.item).sorted() == [0, 1, 2, 3])
        #expect(try await store.run(id: "r1")?.status == .completed)
    }

    @Test(arguments: StoreBackend.all) func aFinishedCallInsideAnUnfinishedStepIsAnsweredFromTheStore(backend: StoreBackend) async throws {
        let temporary = try await TemporaryStore(backend)
        defer { temporary.remove() }
        let store = temporary.store
        let plan = try StoreHarness.plan(#"""
            {"name": "retrying", "models": {"default": "x:m"},
             "steps": [{"id": "shape", "kind": "llm", "prompt": "give json",
                        "schema": {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]},
                        "retry": {"max_attempts": 3, "initial_delay_ms": 1, "max_delay_ms": 1}}]}
            """#)
        let second = Mutex(false)
        let model = ScriptedModel { _, call in
            if call == 1 { return "not json" }
            // The second attempt waits until the run is cancelled (the first run), or answers.
            if !second.withLock({ $0 }) { try await Task.sleep(for: .seconds(3600)) }
            return #"{"ok": true}"#
        }
        let task = Task { try await StoreHarness.run(plan, id: "r2", store: store, model: model) }
        while model.requests.count < 2 { try await Task.sleep(for: .milliseconds(5)) }
        task.cancel()
        let (cancelled, _) = try await task.value
        #expect(cancelled.status == .cancelled)
        second.withLock { $0 = true }

        let prepared = try await store.prepareResume(id: "r2")
        #expect(prepared.interruptedSteps == 0)
        let (resumed, seen) = try await StoreHarness.run(plan, id: "r2", store: store, model: model, resume: prepared)
        #expect(resumed.status == .completed)
        // Call 1 (the invalid answer) came from the store; only the retry reached the model.
        #expect(model.requests.count == 3)
        #expect(prepared.ledger.replayedCount == 1)
        #expect(seen.filter { $0.type == .modelUsage }.compactMap { $0.data["cache"]?.stringValue } == ["checkpoint"])
        let log = try await store.events(runID: "r2", after: 0, limit: nil)
        #expect(log.map(\.seq) == Array(1...log.count))
    }

    @Test(arguments: StoreBackend.all) func aKilledRunsOpenStepsEndBeforeItContinues(backend: StoreBackend) async throws {
        let temporary = try await TemporaryStore(backend)
        defer { temporary.remove() }
        let store = temporary.store
        // A log as a killed process leaves it: started steps with no end, no run end.
        let dead = try await temporary.opening(owner: "999999999@\(ProcessInfo.processInfo.hostName)")
        try await dead.createRun(StoreHarness.newRun("r3"))
        try await dead.append([
            RunEvent(seq: 1, runID: "r3", time: Date(), type: .runStarted),
            RunEvent(seq: 2, runID: "r3", time: Date(), type: .stepStarted, step: "each"),
            RunEvent(seq: 3, runID: "r3", time: Date(), type: .stepStarted, step: "say", item: 0),
            RunEvent(seq: 4, runID: "r3", time: Date(), type: .modelUsage, step: "say", item: 0, data: ["input_tokens": 10, "output_tokens": 5, "cost_usd": 0.25, "provider": "x"]),
        ])
        let prepared = try await store.prepareResume(id: "r3")
        #expect(prepared.interruptedSteps == 2)
        #expect(prepared.state.nextSeq == 7)
        #expect(prepared.state.usage.inputTokens == 10)
        #expect(prepared.state.usage.costUSD == 0.25)
        let log = try await store.events(runID: "r3", after: 4, limit: nil)
        #expect(log.map(\.type) == [.stepFailed, .stepFailed])
        #expect(log.map(\.step) == ["say", "each"])
        #expect(log.first?.data["error"]?["type"] == "interrupted")
    }

    @Test(arguments: StoreBackend.all) func theCacheAnswersIdenticalRequestsUntilItsEntriesExpire(backend: StoreBackend) async throws {
        let temporary = try await TemporaryStore(backend)
        defer { temporary.remove() }
        let store = temporary.store
        let plan = try StoreHarness.plan(#"""
            {"name": "cached", "models": {"default": "x:m"},
             "steps": [{"id": "find", "kind": "search", "query": "agents"},
                       {"id": "write", "kind": "llm", "prompt": "write about agents"}]}
            """#)
        let clock = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        let caching = { ResponseCaching(cache: store, timeToLive: 3600, now: { clock.withLock { $0 } }) }
        let model = ScriptedModel(answer: "the text")
        let search = FakeSearchProvider(resultsPerQuery: 2)

        let firstCache = caching()
        let (first, firstEvents) = try await StoreHarness.run(plan, id: "c1", store: store, model: model, search: search, caching: firstCache)
        #expect(first.status == .completed)
        #expect(firstEvents.first { $0.type == .modelUsage }?.data["cache"] == "miss")
        #expect((firstCache.hits, firstCache.misses) == (0, 2))

        let secondCache = caching()
        let (second, secondEvents) = try await StoreHarness.run(plan, id: "c2", store: store, model: model, search: search, caching: secondCache)
        #expect(second.result == first.result)
        #expect(model.requests.count == 1)
        #expect(search.queries.count == 1)
        let usage = try #require(secondEvents.first { $0.type == .modelUsage })
        #expect(usage.data["cache"] == "hit")
        #expect(usage.data["input_tokens"] == 0)
        #expect(secondEvents.contains { $0.type == .stepDelta && $0.deltaText == "the text" })
        #expect((secondCache.hits, secondCache.misses) == (2, 0))

        clock.withLock { $0 = $0.addingTimeInterval(3601) }
        _ = try await StoreHarness.run(plan, id: "c3", store: store, model: model, search: search, caching: caching())
        #expect(model.requests.count == 2)
        #expect(try await store.clearCache() == 2)
    }
}

/// A transport with one sink still gets every event after the store has it.
@Suite struct StoreFirstSinkTests {
    /// Checks, for each event it receives, that the store already holds it.
    final class CheckingSink: EventSink {
        let store: any RunStore
        let missing = Mutex<[Int]>([])
        let received = Mutex(0)

        init(store: any RunStore) { self.store = store }

        func receive(_ event: RunEvent) async {
            received.withLock { $0 += 1 }
            do {
                let stored = try await store.events(runID: event.runID, after: event.seq - 1, limit: 1)
                if stored.first?.seq != event.seq { missing.withLock { $0.append(event.seq) } }
            } catch {
                Issue.record("reading the store failed: \(error)")
            }
        }
    }

    @Test(arguments: StoreBackend.all) func everyEventIsStoredBeforeTheTransportSeesIt(backend: StoreBackend) async throws {
        let temporary = try await TemporaryStore(backend)
        defer { temporary.remove() }
        let store = temporary.store
        let plan = try StoreHarness.plan(ResumeTests.plan)
        try await store.createRun(StoreHarness.newRun("s1", plan: plan.name))
        let transport = CheckingSink(store: store)
        let sink = StoreFirstSink(store: store, downstream: [transport])
        let providers = RunEngine.Providers(
            model: ScriptedModel(chunkSize: 2, script: { request, _ in "answer to " + request.prompt }), search: FakeSearchProvider(),
            fetch: FakeFetchProvider(pages: [:]), documents: FakeDocumentLoader(documents: [:]))
        let outcome = await RunEngine(providers: providers, configuration: RunEngine.Configuration(makeRunID: { "s1" }))
            .run(plan: plan, inputs: ["items": [0, 1, 2]], sinks: [sink])
        #expect(outcome.status == .completed)
        #expect(await sink.storage.flush() == nil)
        #expect(transport.received.withLock { $0 } > 20)
        #expect(transport.missing.withLock { $0 } == [])
        #expect(try await store.run(id: "s1")?.status == .completed)
    }
}

/// Every step execution has its own checkpoint key, also in nested maps and loops.
@Suite struct CheckpointKeyTests {
    @Test(arguments: StoreBackend.all) func nestedMapsAndLoopRoundsGetDistinctKeys(backend: StoreBackend) async throws {
        let temporary = try await TemporaryStore(backend)
        defer { temporary.remove() }
        let store = temporary.store
        let plan = try StoreHarness.plan(#"""
            {"name": "nested", "models": {"default": "x:m"},
             "steps": [
               {"id": "rounds", "kind": "loop", "max_iterations": 2,
                "steps": [{"id": "outer", "kind": "map", "over": "inputs.rows", "as": "row",
                           "steps": [{"id": "inner", "kind": "map", "over": "row",
                                      "steps": [{"id": "say", "kind": "llm", "prompt": "{{loop.iteration}} {{item}}"}]}]}]}
             ]}
            """#)
        let (outcome, _) = try await StoreHarness.run(
            plan, id: "k1", store: store, model: ScriptedModel { request, _ in request.prompt }, inputs: ["rows": [["a", "b"], ["c"]]])
        #expect(outcome.status == .completed)
        let keys = Set(try await store.checkpoints(runID: "k1").keys)
        for round in 1...2 {
            #expect(keys.contains("rounds#\(round)/outer[0]/inner[0]/say"))
            #expect(keys.contains("rounds#\(round)/outer[0]/inner[1]/say"))
            #expect(keys.contains("rounds#\(round)/outer[1]/inner[0]/say"))
            #expect(keys.contains("rounds#\(round)/outer[0]/inner"))
            #expect(keys.contains("rounds#\(round)/outer"))
        }
        #expect(keys.contains("rounds"))
        let expectedCount = 13  // per round: 3 say, 2 inner, 1 outer; and the loop itself
        #expect(keys.count == expectedCount)
    }
}
