import ArgumentParser
import Foundation
import SluiceEngine
import SluiceJSON
import SluiceRunLog
import SluiceStore

/// `sluice runs …`: the runs kept in the store (`SLUICE_HOME`, default ./.sluice).
struct Runs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs", abstract: "List, inspect, cancel, resume and prune recorded runs.",
        discussion: "Runs are kept in $SLUICE_HOME/runs.sqlite (default ./.sluice/runs.sqlite), or in the PostgreSQL database of --store / $SLUICE_STORE.",
        subcommands: [RunsList.self, RunsShow.self, RunsEvents.self, RunsCancel.self, RunsResume.self, RunsPrune.self],
        defaultSubcommand: RunsList.self
    )
}

/// Opening the store and reporting its errors the same way in every `runs` command.
enum StoreAccess {
    static func open(_ options: StoreOptions) async throws -> OpenedStore {
        do {
            return try await options.open()
        } catch {
            throw fail(error)
        }
    }

    /// The error to throw: exit 2 for an unknown or unsuitable run, 1 for a store that cannot
    /// be used (locked, damaged, unreadable).
    static func fail(_ error: StoreError) -> CLIError {
        error.code == .notFound || error.code == .conflict ? .invalid(error.message) : .failed(error.message)
    }

    /// Runs `body` against the store's runs, mapping its errors to exit codes.
    static func with<T>(_ options: StoreOptions, _ body: (any RunStore) async throws(StoreError) -> T) async throws -> T {
        let store = try await open(options)
        do {
            return try await body(store.runs)
        } catch {
            throw fail(error)
        }
    }
}

struct RunsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List recent runs, newest first.")

    @OptionGroup var store: StoreOptions

    @Option(help: "Only runs with this status: running, completed, failed, cancelled, interrupted, waiting.")
    var status: String?

    @Option(help: "Only runs of this plan.")
    var plan: String?

    @Option(help: "At most this many runs.")
    var limit = 20

    @Flag(help: "One JSON object per run instead of a table.")
    var json = false

    func run() async throws {
        var filter = RunFilter(plan: plan, limit: limit)
        if let status {
            guard let parsed = StoredRunStatus(rawValue: status) else {
                throw CLIError.invalid("--status '\(status)': expected one of \(StoredRunStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            filter.status = parsed
        }
        let runs = try await StoreAccess.with(store) { store throws(StoreError) in try await store.runs(filter) }
        if json {
            for run in runs { Terminal.print(RunSummary.json(run).serialized()) }
            return
        }
        guard !runs.isEmpty else {
            Terminal.print("no runs recorded yet (sluice run PLAN records one)")
            return
        }
        Terminal.print(RunSummary.tableHeader)
        for run in runs { Terminal.print(RunSummary.tableRow(run)) }
    }
}

struct RunsShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one run: status, inputs, usage, result or error.")

    @OptionGroup var store: StoreOptions

    @Argument(help: "The run id (or a unique prefix of it).")
    var id: String

    func run() async throws {
        let run = try await StoreAccess.with(store) { store throws(StoreError) in try await store.run(matching: id) }
        Terminal.print(RunSummary.json(run, full: true).serialized(pretty: true))
    }
}

struct RunsEvents: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events", abstract: "Print a run's stored events as NDJSON (one event per line).")

    @OptionGroup var store: StoreOptions

    @Argument(help: "The run id (or a unique prefix of it).")
    var id: String

    @Option(help: "Only events after this seq (like Last-Event-ID).")
    var after = 0

    @Flag(help: "Keep printing new events until the run ends.")
    var follow = false

    func run() async throws {
        let store = try await StoreAccess.open(self.store).runs
        do {
            let runID = try await store.run(matching: id).id
            var last = after
            while true {
                let events = try await store.events(runID: runID, after: last, limit: 5000)
                for event in events { Terminal.print(event.jsonLine) }
                last = events.last?.seq ?? last
                if events.count == 5000 { continue }
                guard follow, let run = try await store.run(id: runID), run.status == .running else { return }
                do { try await Task.sleep(for: .milliseconds(200)) } catch { return }  // cancelled: stop following
            }
        } catch {
            throw StoreAccess.fail(error)
        }
    }
}

struct RunsCancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel a run: a running process stops it (run.cancelled); a stopped run is marked cancelled.")

    @OptionGroup var store: StoreOptions

    @Argument(help: "The run id (or a unique prefix of it).")
    var id: String

    func run() async throws {
        let run = try await StoreAccess.with(store) { store throws(StoreError) in
            try await store.requestCancel(id: try await store.run(matching: id).id)
        }
        switch run.status {
        case .running: Terminal.print("asked run \(run.id) to stop (its process \(run.owner ?? "?") ends it with run.cancelled)")
        case .cancelled: Terminal.print("run \(run.id) is cancelled")
        default: Terminal.print("run \(run.id) already ended: \(run.status.rawValue)")
        }
    }
}

struct RunsPrune: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune", abstract: "Delete finished runs (with their events and checkpoints) older than a duration.")

    @OptionGroup var store: StoreOptions

    @Option(name: .customLong("older-than"), help: "Delete runs last updated longer ago than this, e.g. 30d, 12h.")
    var olderThan: String

    func run() async throws {
        let age = try DurationText.seconds(olderThan, option: "--older-than")
        let deleted = try await StoreAccess.with(store) { store throws(StoreError) in
            try await store.deleteRuns(finishedBefore: Date().addingTimeInterval(-age))
        }
        Terminal.print("deleted \(deleted) run\(deleted == 1 ? "" : "s")")
    }
}
