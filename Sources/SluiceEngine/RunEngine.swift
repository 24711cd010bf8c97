public import Foundation
public import SluiceJSON
public import SluicePlan
public import SluiceProviders
public import SluiceRunLog

/// Runs plans: any valid ``Plan``, every step kind, streaming its events to sinks.
///
/// ```swift
/// let engine = RunEngine(providers: try .offline(corpusFolder: "corpus", documentsRoot: "."))
/// let outcome = await engine.run(plan: plan, inputs: ["task": "AI agents this week"],
///                                sinks: [TerminalEventView.standardOutput(environment: env)])
/// exit(outcome.exitCode)
/// ```
///
/// `run` never throws: every failure is reported as `run.failed` (or `run.cancelled`) and in
/// the returned ``RunOutcome``. Cancelling the calling task stops every step in flight and
/// ends the run with `run.cancelled`.
public struct RunEngine: Sendable {
    /// The services a run calls.
    public struct Providers: Sendable {
        public var model: any ModelProvider
        public var search: any SearchProvider
        public var fetch: any FetchProvider
        public var documents: any DocumentLoader
        /// Who answers `confirm` steps; nil when nobody can be asked.
        public var input: (any InputProvider)?
        /// The model steps use when neither the plan nor the configuration names one: the
        /// offline providers answer any name, so they need no SLUICE_MODEL.
        public var defaultModel: String?

        public init(
            model: any ModelProvider, search: any SearchProvider, fetch: any FetchProvider,
            documents: any DocumentLoader, input: (any InputProvider)? = nil
        ) {
            self.model = model
            self.search = search
            self.fetch = fetch
            self.documents = documents
            self.input = input
        }

        /// The same providers with every secret of `redactor` hidden from what they give back
        /// (see ``RedactingModel``); as they are when there is nothing to hide.
        public func redacting(_ redactor: SecretRedactor) -> Providers {
            guard !redactor.isEmpty else { return self }
            var providers = self
            providers.model = RedactingModel(model, redactor: redactor)
            providers.search = RedactingSearch(search, redactor: redactor)
            providers.fetch = RedactingFetch(fetch, redactor: redactor)
            providers.documents = RedactingDocuments(documents, redactor: redactor)
            return providers
        }

        /// The providers of `--offline`: the simulated model for every model name, search and
        /// fetch over the corpus folder, documents from local files under `documentsRoot` (nil:
        /// no local files).
        ///
        /// - Throws: ``ProviderError`` when the corpus folder cannot be read.
        public static func offline(
            corpusFolder: String, documentsRoot: String?,
            model: SimulatedModel.Configuration = .init(), input: (any InputProvider)? = nil
        ) throws(ProviderError) -> Providers {
            offline(corpus: try Corpus.load(folder: corpusFolder), documentsRoot: documentsRoot, model: model, input: input)
        }

        /// The providers of `--offline` over a corpus already loaded (an empty one when there
        /// is no corpus folder: searches then find nothing).
        public static func offline(
            corpus: Corpus, documentsRoot: String?,
            model: SimulatedModel.Configuration = .init(), input: (any InputProvider)? = nil
        ) -> Providers {
            var providers = Providers(
                model: ModelRouter(fallback: SimulatedModel(configuration: model)),
                search: CorpusSearchProvider(corpus: corpus),
                fetch: CorpusFetchProvider(corpus: corpus),
                documents: LocalDocumentLoader(root: documentsRoot),
                input: input
            )
            providers.defaultModel = "\(SimulatedModel.providerName):offline"
            return providers
        }
    }

    /// How runs are run (everything but the services).
    public struct Configuration: Sendable {
        public var prices: PriceTable
        /// Where `call` steps find the plans they name (besides the calling plan's folder).
        public var catalog: PlanCatalog
        /// `--model NAME=provider:model`: replaces the model of the plan's `models` entry NAME.
        public var modelOverrides: [String: String]
        /// The model for steps that name none when the plan has no `default` (`SLUICE_MODEL`).
        public var defaultModel: String?
        /// The most steps a run may start when the plan's budget does not say.
        public var maxSteps: Int
        /// Events waiting for slow sinks before deltas are merged (see ``EventBus``).
        public var eventBufferCapacity: Int
        /// How long streamed text may gather before it is delivered (see ``EventBus``): fewer,
        /// larger `step.delta` events, each stored and sent once.
        public var deltaWindow: Duration = EventBus.defaultDeltaWindow
        /// The wall clock for event times.
        public var now: @Sendable () -> Date
        /// Makes each run's id.
        public var makeRunID: @Sendable () -> String
        /// A number in 0..<1 for retry jitter.
        public var random: @Sendable () -> Double

        public init(
            prices: PriceTable = .embedded,
            catalog: PlanCatalog = PlanCatalog(directories: []),
            modelOverrides: [String: String] = [:],
            defaultModel: String? = nil,
            maxSteps: Int = 10_000,
            eventBufferCapacity: Int = EventBus.defaultCapacity,
            now: @escaping @Sendable () -> Date = { Date() },
            makeRunID: @escaping @Sendable () -> String = { "run_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "") },
            random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
        ) {
            self.prices = prices
            self.catalog = catalog
            self.modelOverrides = modelOverrides
            self.defaultModel = defaultModel
            self.maxSteps = maxSteps
            self.eventBufferCapacity = eventBufferCapacity
            self.now = now
            self.makeRunID = makeRunID
            self.random = random
        }
    }

    public var providers: Providers {
        get { settings.providers }
        set { settings = Settings(providers: newValue, configuration: configuration, schemas: schemas) }
    }

    public var configuration: Configuration {
        get { settings.configuration }
        set { settings = Settings(providers: providers, configuration: newValue, schemas: schemas) }
    }

    /// Compiled schemas, shared by every engine's runs (``SluiceJSON/CompiledSchemas/shared``).
    var schemas: SchemaCache { settings.schemas }

    /// Everything above in one shared object: every run's driver and interpreters hold a
    /// reference to the engine, not a copy of its settings (hundreds of bytes per run).
    private final class Settings: Sendable {
        let providers: Providers
        let configuration: Configuration
        let schemas: SchemaCache

        init(providers: Providers, configuration: Configuration, schemas: SchemaCache) {
            self.providers = providers
            self.configuration = configuration
            self.schemas = schemas
        }
    }

    private var settings: Settings

    public init(providers: Providers, configuration: Configuration = Configuration()) {
        settings = Settings(providers: providers, configuration: configuration, schemas: .shared)
    }

    /// Runs `plan` with `inputs` (defaults are applied here), streaming events to `sinks`.
    ///
    /// Returns when the run has ended and every sink has received the last event.
    ///
    /// - Parameter resume: continue a stopped run: its id, next `seq` and checkpoints (steps
    ///   with a checkpoint are restored, not run again; see ``ResumeState``). It starts with
    ///   `run.resumed` instead of `run.started`.
    public func run(plan: Plan, inputs: JSONValue, sinks: [any EventSink], resume: ResumeState? = nil) async -> RunOutcome {
        let driver = makeDriver(plan: plan, sinks: sinks, resume: resume)
        await driver.run(inputs: inputs)
        driver.context.bus.close()
        await driver.context.bus.delivered()
        return driver.outcome
    }

    /// The run's event bus, context and driver (kept out of `run`'s frame, which waits for the
    /// whole run).
    @inline(never)
    private func makeDriver(plan: Plan, sinks: [any EventSink], resume: ResumeState?) -> RunDriver {
        let runID = resume?.runID ?? configuration.makeRunID()
        let bus = EventBus(runID: runID, sinks: sinks, capacity: configuration.eventBufferCapacity, deltaWindow: configuration.deltaWindow, firstSeq: resume?.nextSeq ?? 1)
        let context = RunContext(
            runID: runID, bus: bus, budget: plan.budget, maxSteps: plan.budget.maxSteps ?? configuration.maxSteps,
            prices: configuration.prices, schemas: schemas, resume: resume, now: configuration.now
        )
        return RunDriver(plan: plan, context: context, engine: self)
    }
}
