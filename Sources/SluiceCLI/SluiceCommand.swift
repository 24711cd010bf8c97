public import ArgumentParser

/// The `sluice` command line: runs, validates and serves JSON plans.
public struct SluiceCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "sluice",
        abstract: "Run LLM report agents written as JSON plans."
    )

    public init() {}
}

/// The entry point for the thin `sluice` executable, so it needs no ArgumentParser import.
public enum SluiceMain {
    public static func run() async {
        await SluiceCommand.main()
    }
}
