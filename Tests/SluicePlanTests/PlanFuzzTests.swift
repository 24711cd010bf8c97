import SluiceTesting
import Foundation
import SluiceJSON
import SluicePlan
import Testing

/// Random and mutated plans never crash or hang the loader: every input either loads or
/// gives diagnostics, and every diagnostic has a position inside the file.
@Suite struct PlanFuzzTests {

    static let seeds: [UInt64] = [1, 2, 3, 4]
    /// Fragments that are likely to reach deep into validation when spliced in.
    static let fragments: [String] = [
        "\"${steps.", "{{#steps.", "{{/", "\"kind\": \"map\"", "\"kind\": \"loop\"", "\"steps\": [",
        "\"when\": \"", "inputs.", "loop.best", "item.", " + ", "size(", "]", "}", "\"", "\\u00e9", "\\", ",", "null",
        "\"${", "}}", "{{", "\"id\": \"outline\"", "\"max_iterations\": \"${inputs.days}\"", "has(", ".map(x, x)",
    ]

    @Test(arguments: seeds)
    func mutatedPlansNeverCrash(seed: UInt64) throws {
        var random = SeededRandom(seed: seed)
        let sources = try Fixtures.jsonFiles(in: Fixtures.plans).map { [UInt8](try Data(contentsOf: URL(fileURLWithPath: $0))) }
        let loader = PlanLoader(catalog: PlanCatalog(directories: [Fixtures.plans.path]))
        for _ in 0..<150 {
            var bytes = sources[Int.random(in: 0..<sources.count, using: &random)]
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                Self.mutate(&bytes, using: &random)
            }
            Self.check(loader, bytes)
        }
    }

    @Test func randomBytesNeverCrash() {
        var random = SeededRandom(seed: 99)
        let loader = PlanLoader()
        for _ in 0..<300 {
            let count = Int.random(in: 0..<200, using: &random)
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
            Self.check(loader, bytes)
        }
    }

    static func check(_ loader: PlanLoader, _ bytes: [UInt8]) {
        do {
            _ = try loader.load(bytes: bytes, path: "fuzz.json")
        } catch {
            #expect(!error.diagnostics.isEmpty)
            let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).count
            for diagnostic in error.diagnostics {
                if let location = diagnostic.location {
                    #expect(location.line >= 1 && location.line <= lines, "\(diagnostic)")
                    #expect(location.column >= 1, "\(diagnostic)")
                }
            }
        }
    }

    static func mutate(_ bytes: inout [UInt8], using random: inout SeededRandom) {
        guard !bytes.isEmpty else { return }
        let at = Int.random(in: 0..<bytes.count, using: &random)
        switch Int.random(in: 0..<4, using: &random) {
        case 0: bytes[at] = UInt8.random(in: 0...255, using: &random)
        case 1: bytes.remove(at: at)
        case 2:
            let end = min(bytes.count, at + Int.random(in: 1...40, using: &random))
            bytes.removeSubrange(at..<end)
        default:
            let fragment = fragments[Int.random(in: 0..<fragments.count, using: &random)]
            bytes.insert(contentsOf: Array(fragment.utf8), at: at)
        }
    }
}
