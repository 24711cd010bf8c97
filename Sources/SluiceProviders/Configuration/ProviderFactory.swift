import Foundation

/// Builds the real providers from a ``ProviderConfiguration``.
///
/// ```swift
/// let factory = ProviderFactory(configuration: try ProviderConfiguration.load())
/// let model = try factory.requireModel(plan.defaultModel ?? factory.configuration.defaultModel)
/// let providers = (model: factory.modelRouter(), search: try factory.searchProvider(),
///                  fetch: factory.fetchProvider(), documents: factory.documentLoader())
/// ```
///
/// Model providers, by the `provider` part of `provider:model`:
/// - `openai`: `OPENAI_API_KEY`, `OPENAI_BASE_URL` (default `https://api.openai.com/v1`).
/// - `anthropic`: `ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL` (default `https://api.anthropic.com`).
/// - OpenAI-compatible aliases `deepseek`, `doubao`/`ark`, `qwen`, `ollama`, `vllm`:
///   `<ALIAS>_BASE_URL` and `<ALIAS>_API_KEY` when set, else `OPENAI_BASE_URL` and
///   `OPENAI_API_KEY`, else the service's usual address; `ollama` and `vllm` need no key.
///
/// Search (`SLUICE_SEARCH` names one, or a comma-separated fallback order; otherwise every
/// configured one in the order below): `tavily` (`TAVILY_API_KEY`, `TAVILY_BASE_URL`), `brave`
/// (`BRAVE_API_KEY`, `BRAVE_BASE_URL`), `google` (`GOOGLE_API_KEY`, `GOOGLE_CSE_ID`,
/// `GOOGLE_CSE_BASE_URL`), `searxng` (`SEARXNG_URL`), `corpus` (`SLUICE_CORPUS`, a folder
/// indexed with SQLite FTS5 into `SLUICE_HOME/corpus.sqlite`, default `./.sluice`).
///
/// Fetch refuses loopback, private and link-local addresses unless `SLUICE_FETCH_ALLOW_PRIVATE`
/// is `1`/`true`. Documents are read under `SLUICE_DOCUMENT_ROOT` (default: the working directory).
public struct ProviderFactory: Sendable {
    public var configuration: ProviderConfiguration
    public var http: HTTPClient
    public var retry: ProviderRetryPolicy
    public var modelTimeouts: HTTPTimeouts

    public init(configuration: ProviderConfiguration, http: HTTPClient = .shared, retry: ProviderRetryPolicy = ProviderRetryPolicy(), modelTimeouts: HTTPTimeouts = HTTPTimeouts()) {
        self.configuration = configuration
        self.http = http
        self.retry = retry
        self.modelTimeouts = modelTimeouts
    }

    /// What `--offline` runs use instead of a configured service.
    public static let offlineHint = "or run with --offline to use the simulated model and the local corpus"

    // MARK: Models

    struct CompatibleService {
        var defaultBaseURL: String?
        var needsKey: Bool
    }

    static let compatibleAliases: [String: CompatibleService] = [
        "deepseek": CompatibleService(defaultBaseURL: "https://api.deepseek.com/v1", needsKey: true),
        "doubao": CompatibleService(defaultBaseURL: "https://ark.cn-beijing.volces.com/api/v3", needsKey: true),
        "ark": CompatibleService(defaultBaseURL: "https://ark.cn-beijing.volces.com/api/v3", needsKey: true),
        "qwen": CompatibleService(defaultBaseURL: "https://dashscope.aliyuncs.com/compatible-mode/v1", needsKey: true),
        "ollama": CompatibleService(defaultBaseURL: "http://localhost:11434/v1", needsKey: false),
        "vllm": CompatibleService(defaultBaseURL: "http://localhost:8000/v1", needsKey: false),
    ]

    /// Every provider name a model may use.
    public static var modelProviderNames: [String] { ["openai", "anthropic"] + compatibleAliases.keys.sorted() }

    /// The model provider for `name` (`openai`, `anthropic`, an alias).
    /// - Throws: ``ProviderError`` `notConfigured` naming the variable to set, `unknownProvider`.
    public func modelProvider(named name: String) throws(ProviderError) -> any ModelProvider {
        let lowered = name.lowercased()
        if lowered == "anthropic" {
            guard let key = configuration["ANTHROPIC_API_KEY"] else { throw missing("ANTHROPIC_API_KEY", for: "anthropic models") }
            return AnthropicModel(
                configuration: .init(providerName: "anthropic", baseURL: configuration["ANTHROPIC_BASE_URL"] ?? "https://api.anthropic.com", apiKey: key, timeouts: modelTimeouts, retry: retry),
                http: http
            )
        }
        if lowered == "openai" {
            guard let key = configuration["OPENAI_API_KEY"] else { throw missing("OPENAI_API_KEY", for: "openai models") }
            return OpenAICompatibleModel(
                configuration: .init(providerName: "openai", baseURL: configuration["OPENAI_BASE_URL"] ?? "https://api.openai.com/v1", apiKey: key, timeouts: modelTimeouts, retry: retry),
                http: http
            )
        }
        guard let service = Self.compatibleAliases[lowered] else {
            throw ProviderError(
                .unknownProvider,
                "no model provider '\(name)': use one of \(Self.modelProviderNames.joined(separator: ", ")) (as provider:model)",
                provider: name
            )
        }
        let prefix = lowered == "ark" ? "DOUBAO" : lowered.uppercased()
        let key = configuration["\(prefix)_API_KEY"] ?? configuration["OPENAI_API_KEY"]
        guard let baseURL = configuration["\(prefix)_BASE_URL"] ?? configuration["OPENAI_BASE_URL"] ?? service.defaultBaseURL else {
            throw missing("\(prefix)_BASE_URL", for: "\(lowered) models")
        }
        if service.needsKey, key == nil { throw missing("\(prefix)_API_KEY (or OPENAI_API_KEY)", for: "\(lowered) models") }
        return OpenAICompatibleModel(
            configuration: .init(providerName: lowered, baseURL: baseURL, apiKey: key, timeouts: modelTimeouts, retry: retry),
            http: http
        )
    }

    /// A router over every model provider name: the configured ones answer; calling one that is
    /// not configured fails with the error ``modelProvider(named:)`` gives, which names the
    /// variable to set and `--offline`.
    public func modelRouter() -> ModelRouter {
        var providers: [String: any ModelProvider] = [:]
        for name in Self.modelProviderNames {
            do {
                providers[name] = try modelProvider(named: name)
            } catch {
                providers[name] = UnavailableModel(error: error)
            }
        }
        return ModelRouter(providers: providers)
    }

    /// Checks that `model` (a plan's or `--model`'s, else `SLUICE_MODEL`) names a configured
    /// provider, so a run fails before it starts with what to set.
    /// - Throws: ``ProviderError`` `notConfigured` naming the variable to set and `--offline`.
    @discardableResult
    public func requireModel(_ model: String?) throws(ProviderError) -> ModelID {
        guard let text = model ?? configuration.defaultModel else {
            throw ProviderError(
                .notConfigured,
                "no model is configured: set SLUICE_MODEL (e.g. openai:gpt-4o-mini or anthropic:claude-sonnet-4-5) and its key (OPENAI_API_KEY or ANTHROPIC_API_KEY) in the environment or in .env, \(Self.offlineHint)",
                provider: "configuration"
            )
        }
        guard let id = ModelID(parsing: text) else {
            throw ProviderError(.invalidRequest, "'\(text)' is not a model name: write provider:model, e.g. openai:gpt-4o-mini", provider: "configuration")
        }
        _ = try modelProvider(named: id.provider)
        return id
    }

    private func missing(_ variable: String, for what: String) -> ProviderError {
        ProviderError(.notConfigured, "\(what) need \(variable): set it in the environment or in .env, \(Self.offlineHint)", provider: "configuration")
    }

    // MARK: Search, fetch, documents

    public static let searchProviderNames = ["tavily", "brave", "google", "searxng", "corpus"]

    /// The search provider `SLUICE_SEARCH` names (a comma-separated list becomes an ordered
    /// fallback), else every configured one in the order of ``searchProviderNames``.
    /// - Throws: ``ProviderError`` `notConfigured` when none is configured.
    public func searchProvider() throws(ProviderError) -> any SearchProvider {
        let names: [String]
        if let chosen = configuration["SLUICE_SEARCH"] {
            names = chosen.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
        } else {
            names = Self.searchProviderNames.filter(isSearchConfigured)
            guard !names.isEmpty else {
                throw ProviderError(
                    .notConfigured,
                    "no search provider is configured: set TAVILY_API_KEY, BRAVE_API_KEY, GOOGLE_API_KEY with GOOGLE_CSE_ID, SEARXNG_URL or SLUICE_CORPUS (in the environment or in .env), \(Self.offlineHint)",
                    provider: "configuration"
                )
            }
        }
        var providers: [any SearchProvider] = []
        for name in names { providers.append(try searchProvider(named: name)) }
        return providers.count == 1 ? providers[0] : FallbackSearch(providers)
    }

    func isSearchConfigured(_ name: String) -> Bool {
        switch name {
        case "tavily": configuration["TAVILY_API_KEY"] != nil
        case "brave": configuration["BRAVE_API_KEY"] != nil
        case "google": configuration["GOOGLE_API_KEY"] != nil && configuration["GOOGLE_CSE_ID"] != nil
        case "searxng": configuration["SEARXNG_URL"] != nil
        case "corpus": configuration["SLUICE_CORPUS"] != nil
        default: false
        }
    }

    /// One search provider by name (a plan may name one).
    /// - Throws: ``ProviderError`` `notConfigured` naming the variable, `unknownProvider`.
    public func searchProvider(named name: String) throws(ProviderError) -> any SearchProvider {
        func web(_ base: String, key: String?) -> WebSearchConfiguration {
            WebSearchConfiguration(baseURL: base, apiKey: key, retry: retry)
        }
        switch name.lowercased() {
        case "tavily":
            guard let key = configuration["TAVILY_API_KEY"] else { throw missing("TAVILY_API_KEY", for: "tavily searches") }
            return TavilySearch(configuration: web(configuration["TAVILY_BASE_URL"] ?? TavilySearch.defaultBaseURL, key: key), http: http)
        case "brave":
            guard let key = configuration["BRAVE_API_KEY"] else { throw missing("BRAVE_API_KEY", for: "brave searches") }
            return BraveSearch(configuration: web(configuration["BRAVE_BASE_URL"] ?? BraveSearch.defaultBaseURL, key: key), http: http)
        case "google":
            guard let key = configuration["GOOGLE_API_KEY"] else { throw missing("GOOGLE_API_KEY", for: "google searches") }
            guard let engine = configuration["GOOGLE_CSE_ID"] else { throw missing("GOOGLE_CSE_ID", for: "google searches") }
            return GoogleCustomSearch(configuration: web(configuration["GOOGLE_CSE_BASE_URL"] ?? GoogleCustomSearch.defaultBaseURL, key: key), engineID: engine, http: http)
        case "searxng":
            guard let base = configuration["SEARXNG_URL"] else { throw missing("SEARXNG_URL", for: "searxng searches") }
            return SearXNGSearch(configuration: web(base, key: configuration["SEARXNG_API_KEY"]), http: http)
        case "corpus":
            guard let folder = configuration["SLUICE_CORPUS"] else { throw missing("SLUICE_CORPUS", for: "corpus searches") }
            let home = configuration["SLUICE_HOME"] ?? ".sluice"
            return CorpusFTSSearch(folder: folder, database: try CorpusDatabase(path: home + "/corpus.sqlite"))
        default:
            throw ProviderError(.unknownProvider, "no search provider '\(name)': use one of \(Self.searchProviderNames.joined(separator: ", "))", provider: name)
        }
    }

    /// Fetch over HTTP with the address guard (`SLUICE_FETCH_ALLOW_PRIVATE` lifts it).
    public func fetchProvider() -> HTTPFetchProvider {
        let open = configuration.flag("SLUICE_FETCH_ALLOW_PRIVATE")
        return HTTPFetchProvider(configuration: .init(addressPolicy: open ? .any : .publicOnly, retry: ProviderRetryPolicy(maxAttempts: 2, random: retry.random, sleep: retry.sleep)), http: http)
    }

    /// `sluice run`'s documents: local files under `SLUICE_DOCUMENT_ROOT` (default
    /// `workingDirectory`), URLs via fetch.
    /// - Parameter workingDirectory: nil for the process's current directory.
    public func documentLoader(workingDirectory: String? = nil) -> DocumentRouter {
        documentLoader(root: configuration["SLUICE_DOCUMENT_ROOT"] ?? workingDirectory ?? FileManager.default.currentDirectoryPath)
    }

    /// Local files under `root` (nil: no local files at all), URLs via fetch; never the Sluice home.
    public func documentLoader(root: String?) -> DocumentRouter {
        let home = configuration["SLUICE_HOME"].map { [$0] } ?? []
        return DocumentRouter(local: LocalDocumentLoader(root: root, excluding: home), fetch: fetchProvider())
    }
}

/// Stands in for a model provider that is not configured: every call fails with why.
struct UnavailableModel: ModelProvider {
    let error: ProviderError

    func generate(_ request: ModelRequest, onDelta: @Sendable (String) async throws -> Void) async throws -> ModelResponse {
        throw error
    }
}
