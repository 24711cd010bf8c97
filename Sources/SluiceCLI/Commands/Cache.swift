import ArgumentParser
import SluiceStore

/// `sluice cache clear`: forgets the responses `sluice run --cache` kept.
struct Cache: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache", abstract: "Manage the response cache of sluice run --cache.", subcommands: [CacheClear.self])
}

struct CacheClear: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "clear", abstract: "Delete every cached model and search response.")

    @OptionGroup var store: StoreOptions

    func run() async throws {
        let opened = try await StoreAccess.open(store)
        guard let cache = opened.cache else { throw CLIError.failed("\(opened.location) keeps no cached responses") }
        let deleted: Int
        do {
            deleted = try await cache.clearCache()
        } catch {
            throw StoreAccess.fail(error)
        }
        Terminal.print("deleted \(deleted) cached response\(deleted == 1 ? "" : "s")")
    }
}
