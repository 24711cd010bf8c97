import Foundation
import SluiceJSON
import SluiceTesting
import Testing

/// Work distribution through the PostgreSQL run queue, with real `sluice serve` replicas: a
/// replica with no free place (`--max-runs`) queues the runs it receives, a replica with room
/// claims and executes them, and the receiving replica's clients follow them from the store —
/// REST + SSE and MCP call streams — every event once, with the result.
@Suite(.serialized, .timeLimit(.minutes(5)), .enabled(if: PostgresCluster.available, "PostgreSQL is not installed (CI installs it)"))
struct PostgresQueueProcessTests {
    typealias Replicas = PostgresReplicaProcessTests

    @Test func aFullReplicasSecondRunIsExecutedByAnotherAndStreamedOnTheFirst() async throws {
        let (url, database) = try await Replicas.newDatabase()
        let homes = [Replicas.scratchHome(), Replicas.scratchHome()]
        defer { homes.forEach(Replicas.remove) }
        // The follower's safety-net poll is an hour: the queued run reaches its client only
        // through NOTIFY wake-ups.
        let environment = ["SLUICE_STORE": url, "SLUICE_STORE_FOLLOW_POLL": "1h"]
        let first = try await ServeProcess(home: homes[0], delayMilliseconds: 100, arguments: ["--max-runs", "1"], environment: environment)
        defer { first.terminate() }
        let second = try await ServeProcess(home: homes[1], delayMilliseconds: 100, environment: environment)
        defer { second.terminate() }

        var runIDs: [String] = []
        for _ in 0..<2 {
            let started = try await HTTP.request(first.port, "POST", "/v1/plans/news_report/runs", json: ["inputs": ["task": "AI agents"]])
            #expect(started.status == 202, "\(started.text)")
            runIDs.append(try #require(started.json?["run_id"]?.stringValue))
        }
        // Both streams open, and both runs under way, before either is read to its end.
        var readers: [SSEReader] = []
        var streams: [[ReceivedSSE]] = []
        for runID in runIDs {
            let (head, reader, _) = try await HTTP.sse(first.port, "GET", "/v1/runs/\(runID)/events")
            #expect(head.status == 200)
            var events: [ReceivedSSE] = []
            while let event = await reader.next() {
                events.append(event)
                if events.count == 2 { break }
            }
            readers.append(reader)
            streams.append(events)
        }
        // Still running (a run takes seconds): who executes each is in its row.
        for (index, runID) in runIDs.enumerated() {
            let owner = try await Replicas.psql("SELECT coalesce(owner, 'none') FROM runs WHERE id = '\(runID)'", database: database)
            let executor = index == 0 ? first.pid : second.pid
            #expect(owner.hasPrefix("\(executor)@"), "run \(index + 1) is owned by \(owner); replicas \(first.pid), \(second.pid)")
        }
        for index in runIDs.indices { streams[index] += await HTTP.drain(readers[index]) }
        for (runID, events) in zip(runIDs, streams) {
            #expect(events.last?.event == "final_result", "\(events.last?.data.prefix(300) ?? "nothing")\n\(first.stderr)")
            let ids = events.compactMap { $0.id.flatMap { Int($0) } }
            #expect(ids == Array(1...max(1, ids.count)), "\(ids)")
            let stored = try await Replicas.psql("SELECT count(*) FROM events WHERE run_id = '\(runID)'", database: database)
            #expect(stored == "\(ids.count)")
            let summary = try await HTTP.request(first.port, "GET", "/v1/runs/\(runID)")
            #expect(summary.json?["status"] == "completed", "\(summary.text)")
            #expect(summary.json?["result"] != nil, "\(summary.text)")
        }
    }

    /// `DELETE /v1/runs/{id}` on the replica that received a run another one executes: the
    /// executing replica stops it, and the client on the receiving one sees `run.cancelled`.
    @Test func aRunExecutedElsewhereIsCancelledFromTheReplicaThatReceivedIt() async throws {
        let (url, database) = try await Replicas.newDatabase()
        let homes = [Replicas.scratchHome(), Replicas.scratchHome()]
        defer { homes.forEach(Replicas.remove) }
        let environment = ["SLUICE_STORE": url]
        let first = try await ServeProcess(home: homes[0], delayMilliseconds: 100, arguments: ["--max-runs", "1"], environment: environment)
        defer { first.terminate() }
        let second = try await ServeProcess(home: homes[1], delayMilliseconds: 100, environment: environment)
        defer { second.terminate() }
        var runIDs: [String] = []
        for _ in 0..<2 {
            let started = try await HTTP.request(first.port, "POST", "/v1/plans/news_report/runs", json: ["inputs": ["task": "AI agents"]])
            runIDs.append(try #require(started.json?["run_id"]?.stringValue))
        }
        let (_, reader, _) = try await HTTP.sse(first.port, "GET", "/v1/runs/\(runIDs[1])/events")
        while let event = await reader.next() {
            if event.data.contains(#""type":"step.completed""#) { break }
        }
        let owner = try await Replicas.psql("SELECT coalesce(owner, 'none') FROM runs WHERE id = '\(runIDs[1])'", database: database)
        #expect(owner.hasPrefix("\(second.pid)@"), "\(owner)")
        let cancelled = try await HTTP.request(first.port, "DELETE", "/v1/runs/\(runIDs[1])")
        #expect(cancelled.status == 202, "\(cancelled.text)")
        let rest = await HTTP.drain(reader)
        #expect(rest.last?.data.contains(#""status":"cancelled""#) == true, "\(rest.suffix(2).map(\.data))")
        #expect(try await Replicas.psql("SELECT status FROM runs WHERE id = '\(runIDs[1])'", database: database) == "cancelled")
        #expect(try await Replicas.psql("SELECT type FROM events WHERE run_id = '\(runIDs[1])' ORDER BY seq DESC LIMIT 1", database: database) == "run.cancelled")
        let summary = try await HTTP.request(first.port, "GET", "/v1/runs/\(runIDs[1])")
        #expect(summary.json?["status"] == "cancelled", "\(summary.text)")
        // The first run, executing on the receiving replica, is untouched.
        #expect(try await Replicas.psql("SELECT status FROM runs WHERE id = '\(runIDs[0])'", database: database) != "cancelled")
    }

    /// A 2025-11-25 `tools/call` on a full replica: the run is executed by the other replica,
    /// and its progress and result reach the caller on the POST's own stream.
    @Test func anMCPCallOnAFullReplicaStreamsTheProgressOfARunExecutedElsewhere() async throws {
        let (url, database) = try await Replicas.newDatabase()
        let homes = [Replicas.scratchHome(), Replicas.scratchHome()]
        defer { homes.forEach(Replicas.remove) }
        let environment = ["SLUICE_STORE": url]
        let first = try await ServeProcess(home: homes[0], delayMilliseconds: 100, arguments: ["--max-runs", "1"], environment: environment)
        defer { first.terminate() }
        let second = try await ServeProcess(home: homes[1], delayMilliseconds: 100, environment: environment)
        defer { second.terminate() }
        // The first replica's one place is taken.
        let busy = try await HTTP.request(first.port, "POST", "/v1/plans/news_report/runs", json: ["inputs": ["task": "AI agents"]])
        let busyID = try #require(busy.json?["run_id"]?.stringValue)

        let transport = HTTPTransport(port: first.port)
        let client = MCPTestClient(transport)
        try await client.initialize(version: "2025-11-25")
        let call = try await client.start("tools/call", ["name": "news_report", "arguments": ["task": "MCP on replicas"], "_meta": ["progressToken": 7]])
        _ = try await client.waitFor { $0["method"] == "notifications/progress" }
        let owner = try await Replicas.psql("SELECT coalesce(owner, 'none') FROM runs WHERE id <> '\(busyID)'", database: database)
        #expect(owner.hasPrefix("\(second.pid)@"), "the call's run is owned by \(owner); replicas \(first.pid), \(second.pid)")
        let response = try await client.response(to: call)
        #expect(response["result"]?["isError"] == false, "\(response.serialized(pretty: false).prefix(400))")
        let progress = await client.notifications.filter { $0["method"] == "notifications/progress" }
        #expect(progress.allSatisfy { $0["params"]?["progressToken"] == 7 })
        let values = progress.compactMap { $0["params"]?["progress"]?.doubleValue }
        #expect(values.count >= 2 && zip(values, values.dropFirst()).allSatisfy { $0 < $1 }, "\(values)")
        // Every message of the call's stream once, numbered without gaps.
        // Event ids are `<stream>_<seq>_<index>` (the run's position): one stream, each once, in order.
        let positions = transport.lastEventIDs.map { $0.split(separator: "_").compactMap { Int($0) } }
        #expect(Set(positions.map { $0.first }).count == 1, "\(transport.lastEventIDs)")
        let order = positions.map { $0.dropFirst().map { $0 } }
        #expect(zip(order, order.dropFirst()).allSatisfy { $0.lexicographicallyPrecedes($1) }, "\(transport.lastEventIDs)")
        await client.close()
    }

    /// A run queued on a replica that is then SIGKILLed is not lost: it belongs to no replica
    /// while queued, so the next replica to start claims it and runs it to its end.
    @Test func aQueuedRunSurvivesTheKillOfTheReplicaThatReceivedIt() async throws {
        let (url, database) = try await Replicas.newDatabase()
        let homes = [Replicas.scratchHome(), Replicas.scratchHome()]
        defer { homes.forEach(Replicas.remove) }
        let environment = ["SLUICE_STORE": url, "SLUICE_STORE_LEASE": "3s"]
        let first = try await ServeProcess(home: homes[0], delayMilliseconds: 100, arguments: ["--max-runs", "1"], environment: environment)
        var runIDs: [String] = []
        for _ in 0..<2 {
            let started = try await HTTP.request(first.port, "POST", "/v1/plans/news_report/runs", json: ["inputs": ["task": "AI agents"]])
            #expect(started.status == 202, "\(started.text)")
            runIDs.append(try #require(started.json?["run_id"]?.stringValue))
        }
        let queuedID = runIDs[1]
        // Wait until the second run is recorded as queued, then kill its receiver.
        var queued = ""
        for _ in 0..<100 {
            queued = try await Replicas.psql("SELECT queued FROM runs WHERE id = '\(queuedID)'", database: database)
            if queued == "t" { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        try #require(queued == "t", "the second run was not queued: '\(queued)'\n\(first.stderr)")
        await first.kill()

        let second = try await ServeProcess(home: homes[1], delayMilliseconds: 20, environment: environment)
        defer { second.terminate() }
        let (head, reader, _) = try await HTTP.sse(second.port, "GET", "/v1/runs/\(queuedID)/events")
        #expect(head.status == 200, "\(second.stderr)")
        let events = await HTTP.drain(reader)
        #expect(events.last?.event == "final_result", "\(events.last?.data.prefix(300) ?? "nothing")\n\(second.stderr)")
        let ids = events.compactMap { $0.id.flatMap { Int($0) } }
        #expect(ids == Array(1...max(1, ids.count)), "\(ids)")
        #expect(try await Replicas.psql("SELECT count(*) FROM events WHERE run_id = '\(queuedID)'", database: database) == "\(ids.count)")
        let ended = try await Replicas.psql("SELECT status || ' ' || resumes || ' ' || queued FROM runs WHERE id = '\(queuedID)'", database: database)
        #expect(ended == "completed 0 false", "\(ended)")
    }
}
