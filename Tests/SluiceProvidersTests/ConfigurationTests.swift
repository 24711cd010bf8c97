import Foundation
import SluiceFakeServices
import SluiceJSON
import Testing

@testable import SluiceProviders

@Suite("Configuration and the provider factory")
struct ConfigurationTests {
    @Test func readsDotEnvAndTheEnvironmentWins() throws {
        let folder = try TemporaryFolder()
        try """
            # keys
            export OPENAI_API_KEY=sk-from-file
            OPENAI_BASE_URL = "http://127.0.0.1:9/v1"
            SLUICE_MODEL='openai:gpt-4o-mini'
            TAVILY_API_KEY=tv-123 # inline comment
            EMPTY=
            """.write(toFile: folder.path + "/.env", atomically: true, encoding: .utf8)
        let configuration = try ProviderConfiguration.load(environment: ["OPENAI_API_KEY": "sk-from-env", "EMPTY": ""], directory: folder.path)
        #expect(configuration["OPENAI_API_KEY"] == "sk-from-env")
        #expect(configuration["OPENAI_BASE_URL"] == "http://127.0.0.1:9/v1")
        #expect(configuration.defaultModel == "openai:gpt-4o-mini")
        #expect(configuration["TAVILY_API_KEY"] == "tv-123")
        #expect(configuration["EMPTY"] == nil)
    }

    @Test func aBadDotEnvLineIsNamed() throws {
        let folder = try TemporaryFolder()
        try "OK=1\nthis is not a setting\n".write(toFile: folder.path + "/.env", atomically: true, encoding: .utf8)
        let error = #expect(throws: ProviderError.self) { try ProviderConfiguration.load(environment: [:], directory: folder.path) }
        #expect(error?.message.contains(".env:2") == true)
    }

    @Test func withNothingConfiguredTheErrorSaysWhatToSetAndHowToRunOffline() {
        let factory = ProviderFactory(configuration: ProviderConfiguration(values: [:]))
        let noModel = #expect(throws: ProviderError.self) { try factory.requireModel(nil) }
        #expect(noModel?.code == .notConfigured)
        #expect(noModel?.message.contains("SLUICE_MODEL") == true)
        #expect(noModel?.message.contains("--offline") == true)
        let noKey = #expect(throws: ProviderError.self) { try factory.requireModel("anthropic:claude-sonnet-4-5") }
        #expect(noKey?.message.contains("ANTHROPIC_API_KEY") == true)
        #expect(noKey?.message.contains("--offline") == true)
        let noSearch = #expect(throws: ProviderError.self) { try factory.searchProvider() }
        #expect(noSearch?.message.contains("TAVILY_API_KEY") == true)
        let unknown = #expect(throws: ProviderError.self) { try factory.requireModel("mystery:model") }
        #expect(unknown?.code == .unknownProvider)
    }

    @Test func callingAModelWhoseProviderIsNotConfiguredSaysWhatToSet() async throws {
        let router = ProviderFactory(configuration: ProviderConfiguration(values: ["OPENAI_API_KEY": "sk-x"])).modelRouter()
        let error = await #expect(throws: ProviderError.self) {
            try await router.generate(ModelRequest(model: ModelID(provider: "anthropic", name: "claude-sonnet-4-5"), prompt: "hi")) { _ in }
        }
        #expect(error?.code == .notConfigured)
        #expect(error?.message.contains("ANTHROPIC_API_KEY") == true)
    }

    @Test func compatibleAliasesUseOpenAIsSettingsUnlessTheirOwnAreSet() async throws {
        let server = try FakeHTTPServer.scripted([FakeOpenAI.stream(["hi"])])
        defer { server.stop() }
        let factory = ProviderFactory(configuration: ProviderConfiguration(values: [
            "OPENAI_BASE_URL": server.baseURL + "/v1", "OPENAI_API_KEY": "sk-shared", "DEEPSEEK_API_KEY": "sk-deep",
        ]))
        let router = factory.modelRouter()
        let response = try await router.generate(ModelRequest(model: ModelID(provider: "deepseek", name: "deepseek-chat"), prompt: "hi")) { _ in }
        #expect(response.text == "hi")
        #expect(response.usage.provider == "deepseek")
        #expect(server.requests.first?.header("authorization") == "Bearer sk-deep")
        #expect(server.requests.first?.json?["model"] == "deepseek-chat")
        #expect(try factory.requireModel("ollama:llama3:8b") == ModelID(provider: "ollama", name: "llama3:8b"))
    }

    @Test func searchFollowsSLUICE_SEARCH() throws {
        let configured = ProviderConfiguration(values: ["TAVILY_API_KEY": "t", "BRAVE_API_KEY": "b", "SEARXNG_URL": "http://127.0.0.1:1"])
        #expect(try ProviderFactory(configuration: configured).searchProvider() is FallbackSearch)
        var chosen = configured.values
        chosen["SLUICE_SEARCH"] = "brave"
        #expect(try ProviderFactory(configuration: ProviderConfiguration(values: chosen)).searchProvider() is BraveSearch)
        chosen["SLUICE_SEARCH"] = "google"
        let error = #expect(throws: ProviderError.self) { try ProviderFactory(configuration: ProviderConfiguration(values: chosen)).searchProvider() }
        #expect(error?.message.contains("GOOGLE_API_KEY") == true)
    }

    @Test func redactsEveryKindOfSecret() {
        let configuration = ProviderConfiguration(values: [
            "OPENAI_API_KEY": "sk-aaaa", "BRAVE_API_KEY": "bbbb-key", "SLUICE_API_KEYS": "key1xx:alice,key2yy:bob", "OPENAI_BASE_URL": "http://host/v1",
        ])
        let text = configuration.redactor.redact("sk-aaaa bbbb-key key1xx key2yy http://host/v1")
        #expect(text == "[redacted] [redacted] [redacted] [redacted] http://host/v1")
    }

    @Test func fetchAllowsPrivateAddressesOnlyWhenAsked() {
        #expect(ProviderFactory(configuration: ProviderConfiguration(values: [:])).fetchProvider().configuration.addressPolicy == .publicOnly)
        #expect(ProviderFactory(configuration: ProviderConfiguration(values: ["SLUICE_FETCH_ALLOW_PRIVATE": "true"])).fetchProvider().configuration.addressPolicy == .any)
    }
}
