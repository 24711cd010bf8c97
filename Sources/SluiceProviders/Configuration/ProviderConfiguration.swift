import Foundation

/// The settings providers are built from: environment variables, then a `.env` file in the
/// working directory for any name the environment does not set (the environment wins).
///
/// ```swift
/// let configuration = try ProviderConfiguration.load()
/// let factory = ProviderFactory(configuration: configuration)
/// ```
///
/// Values that are keys are known to ``redactor`` and never appear in provider errors.
public struct ProviderConfiguration: Sendable {
    /// Every variable, empty values dropped (an empty `OPENAI_API_KEY=` means "not set").
    public private(set) var values: [String: String]

    /// The names whose values came from `.env` (the file that holds secrets).
    public private(set) var dotEnvNames: Set<String> = []

    public init(values: [String: String], dotEnvNames: Set<String> = []) {
        self.values = values.filter { !$0.value.isEmpty }
        self.dotEnvNames = dotEnvNames
    }

    /// Reads the process environment and `.env` in the current directory.
    /// - Throws: ``ProviderError`` (`invalidRequest`) naming the `.env` line that cannot be read.
    public static func load() throws(ProviderError) -> ProviderConfiguration {
        try load(environment: ProcessInfo.processInfo.environment, directory: FileManager.default.currentDirectoryPath)
    }

    /// Reads `environment` and `directory/.env`.
    /// - Throws: ``ProviderError`` (`invalidRequest`) naming the `.env` line that cannot be read.
    public static func load(environment: [String: String], directory: String) throws(ProviderError) -> ProviderConfiguration {
        let path = directory + "/.env"
        var merged: [String: String] = [:]
        if FileManager.default.fileExists(atPath: path) {
            let text: String
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw ProviderError(.invalidRequest, "cannot read \(path): \(error.localizedDescription)", provider: "configuration")
            }
            merged = try DotEnvFile.parse(text, file: path)
        }
        let fromFile = Set(merged.keys)
        for (name, value) in environment where !value.isEmpty { merged[name] = value }
        return ProviderConfiguration(values: merged, dotEnvNames: fromFile)
    }

    public subscript(name: String) -> String? { values[name] }

    /// `SLUICE_MODEL`: the model for steps and plans that name none (the shipped plans name
    /// none). Without it, a configured key picks a sensible default: `openai:gpt-4o-mini` with
    /// `OPENAI_API_KEY`, else `anthropic:claude-sonnet-4-5` with `ANTHROPIC_API_KEY`.
    public var defaultModel: String? {
        if let model = values["SLUICE_MODEL"] { return model }
        if values["OPENAI_API_KEY"] != nil { return "openai:gpt-4o-mini" }
        if values["ANTHROPIC_API_KEY"] != nil { return "anthropic:claude-sonnet-4-5" }
        return nil
    }

    /// Hides every secret this configuration holds: values of names ending in `_KEY`,
    /// `_API_KEY`, `_KEYS`, `_TOKEN`, `_SECRET` or `_PASSWORD` (and each key of `SLUICE_API_KEYS`),
    /// and every value read from `.env` of 8 characters or more but those of plain settings
    /// (names ending in `_URL`, `_MODEL`, `_HOME`, `_PLANS`, `_CORPUS`, `_ROOT`, `_SEARCH`,
    /// `_PROVIDER`, `_ID`…): `.env` is where keys live, whatever their names.
    public var redactor: SecretRedactor {
        var secrets: [String] = []
        for (name, value) in values where dotEnvNames.contains(name) && value.count >= 8 && !Self.isPlainSetting(name) {
            secrets.append(value)
        }
        for (name, value) in values where Self.isSecretName(name) {
            secrets.append(value)
            if name.hasSuffix("_KEYS") {
                for entry in value.split(separator: ",") {
                    secrets.append(String(entry.split(separator: ":").first ?? entry).trimmingCharacters(in: .whitespaces))
                }
            }
        }
        return SecretRedactor(secrets: secrets)
    }

    /// Settings whose values are addresses, names or paths, quoted in events as they are
    /// (hiding `gpt-4o-mini` everywhere would protect nothing).
    static func isPlainSetting(_ name: String) -> Bool {
        !isSecretName(name)
            && ["_URL", "_MODEL", "_HOME", "_PLANS", "_CORPUS", "_ROOT", "_SEARCH", "_PROVIDER", "_ID", "_DIR", "_PATH", "_LEVEL", "_HOST", "_PORT"]
                .contains { name.hasSuffix($0) }
    }

    static func isSecretName(_ name: String) -> Bool {
        ["_KEY", "_KEYS", "_TOKEN", "_SECRET", "_PASSWORD"].contains { name.hasSuffix($0) }
    }

    /// Whether a setting is on (`1`, `true`, `yes`, `on`).
    func flag(_ name: String) -> Bool {
        guard let value = values[name]?.lowercased() else { return false }
        return ["1", "true", "yes", "on"].contains(value)
    }
}
