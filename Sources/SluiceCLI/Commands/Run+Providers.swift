import Foundation
import SluiceEngine
import SluicePlan
import SluiceProviders

extension Run {
    /// The offline providers, or the real ones from the environment and `.env`; a missing key
    /// fails here, before anything runs, naming the variable to set (exit 2).
    ///
    /// - Parameter view: the live view, paused while a `confirm` step asks its question.
    func makeProviders(
        for plan: Plan, configuration: ProviderConfiguration, overrides: [String: String], view: TerminalEventView?
    ) throws(CLIError) -> RunEngine.Providers {
        // Prompts would corrupt an NDJSON stream, so only the pretty view asks; otherwise a
        // confirm step applies its fallback.
        let input: (any InputProvider)? = events == .pretty ? TerminalInputProvider.standard(pausing: view) : nil
        if offline {
            let chosen = try OfflineCorpus.choose(option: corpus, configuration: configuration)
            Terminal.error(chosen.note)
            return .offline(
                corpus: chosen.corpus,
                documentsRoot: configuration["SLUICE_DOCUMENT_ROOT"] ?? FileManager.default.currentDirectoryPath,
                input: input
            )
        }
        do {
            let factory = ProviderFactory(configuration: configuration)
            let resolution = ModelResolution(plan: plan, overrides: overrides, defaultModel: configuration.defaultModel)
            for model in try resolution.modelsUsed() { try factory.requireModel(model.description) }
            let searches = plan.allSteps.contains { if case .search = $0.kind { true } else { false } }
            return RunEngine.Providers(
                model: factory.modelRouter(),
                search: searches ? try factory.searchProvider() : UnconfiguredSearch(),
                fetch: factory.fetchProvider(),
                documents: factory.documentLoader(),
                input: input
            )
        } catch let error as ModelResolutionError {
            throw .invalid("\(error.message); \(ProviderFactory.offlineHint)")
        } catch {
            throw .invalid("\(error)")
        }
    }
}

extension ProviderConfiguration {
    /// ``load()`` for a command: an unreadable `.env` is a bad invocation (exit 2).
    static func loadForCLI() throws(CLIError) -> ProviderConfiguration {
        do {
            return try load()
        } catch {
            throw .invalid("\(error)")
        }
    }
}

/// The search provider of a plan with no search steps: never called.
private struct UnconfiguredSearch: SearchProvider {
    func search(_ query: SearchQuery) async throws -> [SearchResult] {
        throw ProviderError(.notConfigured, "no search provider is configured", provider: "configuration")
    }
}
