import ArgumentParser
import Foundation
import SluiceEngine
import SluiceJSON
import SluicePlan
import SluiceProviders
import SluiceRunLog
import SluiceStore
import SluiceTracing

/// `sluice run PLAN`: runs a plan, streaming its events, and exits with the run's outcome.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run a plan.",
        discussion: """
            Inputs come from --inputs FILE.json, then each --input name=value (typed by the plan's \
            input schema: numbers, booleans, JSON arrays and objects), then the schema's defaults.

            --output FILE.md writes the report, so it needs a plan whose result has report_content \
            (other plans are refused before running); any other name gets the result as JSON.

            --offline searches the documents of --corpus DIR, else $SLUICE_CORPUS, else ./corpus \
            when there is one; without any, searches find nothing.

            Exit codes: 0 completed, 1 failed, 2 bad invocation or invalid plan, 130 cancelled.
            """
    )

    enum EventFormat: String, ExpressibleByArgument, CaseIterable {
        case pretty, ndjson
    }

    @Argument(help: "A plan file or plan name.")
    var plan: String

    @Option(name: .customLong("input"), help: "An input as name=value; repeatable.")
    var inputPairs: [String] = []

    @Option(name: .customLong("inputs"), help: "A JSON file holding an object of inputs.")
    var inputsFile: String?

    @Option(help: "How events are shown: pretty (for people) or ndjson (one JSON event per line).")
    var events: EventFormat = .pretty

    @Option(help: "Write the result here: the report as Markdown (.md, for plans whose result has report_content), else the result as JSON.")
    var output: String?

    @Option(name: .customLong("model"), help: "Use provider:model for the plan's model NAME (NAME=provider:model); repeatable.")
    var modelOverrides: [String] = []

    @Flag(help: "Run with no keys and no network: a simulated model and the local corpus.")
    var offline = false

    @Option(name: .long, help: "With --offline: the folder of local documents searched (default: $SLUICE_CORPUS, else ./corpus when there is one, else none).")
    var corpus: String?

    @Flag(help: "Reuse model and search responses for identical requests (kept in the store; see --cache-ttl, sluice cache clear). The plan's \"cache\" setting does this too.")
    var cache = false

    @Flag(name: .customLong("no-cache"), help: "Do not use the response cache, even if the plan's \"cache\" setting asks for it.")
    var noCache = false

    @Option(name: .customLong("cache-ttl"), help: "How long cached responses answer, e.g. 12h or 30d (default: the plan's cache ttl, else until sluice cache clear).")
    var cacheTTL: String?

    @Flag(name: .customLong("no-store"), help: "Do not record the run in the store (it cannot be resumed or listed).")
    var noStore = false

    /// Set by `sluice runs resume ID`: continue that stored run instead of starting one.
    @Option(name: .customLong("resume-run"), help: .hidden)
    var resumeRun: String?

    @OptionGroup var directory: PlanDirectoryOptions

    @OptionGroup var store: StoreOptions

    /// The options a resume must repeat (inputs are stored on their own).
    private var recordedArguments: [String] {
        var arguments: [String] = offline ? ["--offline"] : []
        if let corpus { arguments += ["--corpus", corpus] }
        for override in modelOverrides { arguments += ["--model", override] }
        if cache { arguments.append("--cache") }
        if noCache { arguments.append("--no-cache") }
        if let cacheTTL { arguments += ["--cache-ttl", cacheTTL] }
        if let output { arguments += ["--output", output] }
        if let plans = directory.plans { arguments += ["--plans", plans] }
        return arguments
    }

    // Options are checked in run(), not validate(): ArgumentParser rewraps what validate()
    // throws, and every error should reach SluiceMain as the CLIError it is.
    func run() async throws {
        if corpus != nil && !offline {
            throw CLIError.invalid("--corpus needs --offline (online runs search a folder with SLUICE_SEARCH=corpus and SLUICE_CORPUS)")
        }
        let environment = ProcessInfo.processInfo.environment
        let loaded = try directory.loadPlan(plan, validationCache: validationCache(environment: environment))
        if let output { try ReportOutput.check(loaded, destination: output) }
        let cacheSetting = try responseCache(for: loaded)
        let recording = try await RunRecording.open(enabled: !noStore, resumeID: resumeRun, cache: cacheSetting, storeOptions: store)
        let inputs = try recording.resumed?.run.inputs
            ?? RunInputsOption(pairs: inputPairs, file: inputsFile).resolve(for: loaded, schemaCommand: directory.schemaCommand(for: plan))
        let overrides = try parseModelOverrides()
        let configuration = try ProviderConfiguration.loadForCLI()
        let view: TerminalEventView? = events == .pretty ? TerminalEventView.standardOutput(environment: environment, plan: loaded) : nil
        let traces = try TraceExport.startForCLI(environment: environment, redactor: configuration.redactor)
        let tracer = traces?.runTracerForCLI(environment: environment)
        let providers = recording.wrap(try makeProviders(for: loaded, configuration: configuration, overrides: overrides, view: view).redacting(configuration.redactor))
            .traced(by: tracer)
        let runID = recording.runID
        let engine = RunEngine(
            providers: providers,
            configuration: RunEngine.Configuration(
                catalog: directory.catalog,
                modelOverrides: overrides,
                defaultModel: configuration.defaultModel,
                makeRunID: { runID }
            )
        )
        try await recording.begin(plan: loaded, inputs: inputs, arguments: recordedArguments)
        let sink: any EventSink = view ?? NDJSONEventSink(fileHandle: FileHandle.standardOutput)
        let outcome = await InterruptibleRun.run {
            await withTaskGroup(of: Void.self) { group in
                // Keeps the live view's elapsed times moving while a step streams nothing.
                if let view { group.addTask { await view.runTicker() } }
                defer { group.cancelAll() }
                return await recording.run(engine: engine, plan: loaded, inputs: inputs, sinks: [sink] + (tracer.map { [$0] } ?? []))
            }
        }
        await recording.end(outcome)
        // Every span is exported before the process exits.
        await traces?.shutdown()
        if let output {
            let written = try ReportOutput.write(outcome, to: output)
            // Said only once the file is there, on stdout beside the run's summary.
            if events == .pretty { Terminal.print("  \(written): \(output)") }
        }
        if outcome.exitCode != ExitStatus.completed { throw CLIError.exit(outcome.exitCode) }
    }

    /// Where the plans this binary validated are remembered: `plan-cache` in `SLUICE_HOME`, beside
    /// the SQLite run store; none with `--no-store` or a PostgreSQL store, which write nothing there.
    private func validationCache(environment: [String: String]) -> PlanValidationCache? {
        guard !noStore, store.resolved(environment: environment) == nil else { return nil }
        return PlanValidationCache(directory: SluiceHome.resolve(environment: environment) + "/plan-cache")
    }

    /// The response cache this run uses, if any: `--no-cache` wins, then `--cache`, then the
    /// plan's `cache` setting; `--cache-ttl` replaces the plan's ttl. The plan's setting is
    /// dropped (with a note) under `--no-store`, which has no cache; `--cache` there is an error.
    private func responseCache(for plan: Plan) throws -> RunRecording.Cache? {
        if noCache && cache { throw CLIError.invalid("--cache and --no-cache contradict each other; keep one") }
        let ttl = try cacheTTL.map { try DurationText.seconds($0, option: "--cache-ttl") }
        if noCache { return nil }
        if cache { return RunRecording.Cache(timeToLive: ttl ?? plan.cache?.timeToLive, explicit: true) }
        guard let setting = plan.cache else { return nil }
        return RunRecording.Cache(timeToLive: ttl ?? setting.timeToLive, explicit: false)
    }

    /// `--model NAME=provider:model` pairs.
    private func parseModelOverrides() throws -> [String: String] {
        var overrides: [String: String] = [:]
        for pair in modelOverrides {
            guard let equals = pair.firstIndex(of: "="), ModelID(parsing: String(pair[pair.index(after: equals)...])) != nil
            else {
                throw CLIError.invalid("--model '\(pair)': expected NAME=provider:model, e.g. default=openai:gpt-4o-mini")
            }
            overrides[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
        return overrides
    }
}
