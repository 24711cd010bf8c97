import ArgumentParser
import Foundation
import SluiceJSON
import SluiceStore

/// `sluice runs resume ID`: continues a failed, cancelled or killed run from its checkpoints,
/// the way it was started (the stored plan path, inputs and options), appending to its log.
struct RunsResume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Continue a failed, cancelled or interrupted run from its checkpoints.",
        discussion: """
            Completed steps, map items and loop rounds are restored, provider calls already made are
            answered from the store, and the event log continues with the next seq. Run it from the
            folder the run started in (relative corpus and document paths resolve from there).
            """
    )

    @Argument(help: "The run id (or a unique prefix of it).")
    var id: String

    @Option(help: "How events are shown: pretty or ndjson.")
    var events: Run.EventFormat = .pretty

    @Flag(help: "Continue with the simulated model and the local corpus (e.g. a run the server started offline).")
    var offline = false

    @OptionGroup var store: StoreOptions

    func run() async throws {
        let run = try await StoreAccess.with(store) { store throws(StoreError) in try await store.run(matching: id) }
        if run.status == .waiting {
            // Resumed without its caller, the confirm step would take its fallback unasked.
            throw CLIError.invalid(
                "run \(run.id) is waiting for its caller's answer to step '\(run.pendingInput?.step ?? "?")' (an MCP input request or task): "
                    + "it continues when the client answers (its retry or tasks/update, on any server using this store); "
                    + "to give it up: sluice runs cancel \(run.id)")
        }
        guard run.status.isResumable else {
            throw CLIError.invalid("run \(run.id) is \(run.status.rawValue); only failed, cancelled or interrupted runs can be resumed")
        }
        var stored = run.options["arguments"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if offline, !stored.contains("--offline") { stored.append("--offline") }
        let command = try Run.parse([run.plan.path] + stored + ["--events", events.rawValue, "--resume-run", run.id] + (store.url.map { ["--store", $0] } ?? []))
        try await command.run()
    }
}
